from order_processor.reconciler import ReconcileResult
from order_processor.sweeper import Reason, SweepResult
from order_processor.tally import Tally


def test_a_tally_counts_ids_per_category():
    tally: Tally[str] = Tally()
    tally.add("completed", "a")
    tally.add("failed", "b")
    tally.add("completed", "c")
    assert tally == {"completed": ["a", "c"], "failed": ["b"]}
    assert tally.total == 3
    assert tally.summary("settled") == {"settled": 3, "completed": 2, "failed": 1}


def test_the_log_summaries_of_a_sweep_and_a_reconcile():
    sweep = SweepResult(failed=["b"], unreachable=["lambda"])
    sweep.republished.add(Reason.LOST, "a")
    # every reason is named, even with no order
    assert sweep.summary() == {
        "republished": 1,
        "lost": 1,
        "stale": 0,
        "failed": 1,
        "waiting_for_backlog": 0,
        "unreachable_routes": ["lambda"],
    }
    reconcile = ReconcileResult(left_to_message=["c"])
    reconcile.settled.add("failed", "d")
    expected = {"settled": 1, "failed": 1, "left_to_message": 1, "unresolved": 0}
    assert reconcile.summary() == expected
