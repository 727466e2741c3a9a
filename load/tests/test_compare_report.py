import json

from flashsale_load.compare import summarize, write_report

PHASES = ["sync", "async-ecs", "async-lambda"]


def test_summaries_of_a_recorded_run(compare_run):
    summaries, series = summarize(compare_run, PHASES)
    by_phase = {s.phase: s for s in summaries}
    sync, ecs, lam = by_phase["sync"], by_phase["async-ecs"], by_phase["async-lambda"]
    assert (sync.requests, sync.accepted, sync.completed_in_window) == (12, 12, 12)
    assert sync.response_avg_ms > 100 > ecs.response_avg_ms  # sync waits for the payment
    assert (ecs.requests, ecs.accepted) == (37, 37)
    assert ecs.completed_in_window + ecs.completed_after_window == 37
    assert ecs.completed_after_window >= 1
    assert lam.accepted == 35 and lam.unfinished == 0
    assert ecs.peak_queue_depth == 9 and lam.peak_queue_depth == 9
    assert sync.peak_queue_depth == 0
    assert series["completions"]["async-ecs"][-1][1] == 37
    assert set(series["depths"]["async-lambda"]) == {"order-queue", "payment-queue"}


def test_report_files(compare_run):
    path = write_report(compare_run, PHASES, {"users per phase": 3}, {"processor": {}})
    text = path.read_text()
    assert text.startswith("# Flash sale: the three phases compared")
    assert "| orders accepted | 12 | 37 | 35 |" in text
    assert "## Machine" in text and "nproc" in text
    assert "| users per phase | 3 |" in text
    for image in ("orders.png", "completions.png", "queue_depth.png"):
        assert f"]({image})" in text
        assert (compare_run / image).read_bytes().startswith(b"\x89PNG")
    summary = json.loads((compare_run / "summary.json").read_text())
    assert [p["phase"] for p in summary["phases"]] == PHASES
    assert summary["phases"][0]["success_rate"] == 1.0


def test_a_phase_that_did_not_run_is_left_out(compare_run):
    summaries, _ = summarize(compare_run, ["sync", "async-ecs", "async-lambda", "nope"])
    assert [s.phase for s in summaries] == PHASES
