import pytest

from flashsale_load.analysis import OrderRecord
from flashsale_load.drain import drain_result, ledger_check
from flashsale_load.report import with_derived

T0 = 5_000.0


def rec(oid, start, end, status="completed"):
    return OrderRecord(
        oid,
        status,
        "ecs",
        T0 - 10,
        processing_ts=T0 + start,
        completed_ts=T0 + end if status == "completed" else None,
        failed_ts=T0 + end if status == "failed" else None,
    )


def test_an_ideal_drain_reaches_the_theoretical_rate():
    # 4 orders, 2 at a time, 0.5 s each: 1 s from the first pick-up to the last outcome
    records = {
        "a": rec("a", 1.0, 1.5),
        "b": rec("b", 1.0, 1.5),
        "c": rec("c", 1.5, 2.0),
        "d": rec("d", 1.5, 2.0, "failed"),
    }
    result = drain_result("ecs", 2, 0.5, T0, records)
    assert result.theoretical_per_s == 4.0
    assert (result.completed, result.failed, result.unfinished) == (3, 1, 0)
    assert result.steady_s == pytest.approx(1.0)
    assert result.rate_per_s == pytest.approx(4.0)
    assert result.ratio == pytest.approx(1.0)
    assert result.wall_s == pytest.approx(2.0)  # includes the 1 s start-up
    assert result.wall_rate_per_s == pytest.approx(2.0)
    assert with_derived(result)["ratio"] == pytest.approx(1.0)


def test_unfinished_and_unknown_orders():
    records = {"a": rec("a", 1.0, 3.0), "b": OrderRecord("b", "pending", "ecs", T0), "c": None}
    result = drain_result("lambda", 1, 1.0, T0, records)
    assert (result.backlog, result.finished, result.unfinished) == (3, 1, 2)
    assert result.ratio == pytest.approx(0.5)


def test_nothing_drained():
    result = drain_result("ecs", 5, 1.0, T0, {"a": None})
    assert result.rate_per_s is None and result.ratio is None and result.steady_s is None


def test_dynamodb_calls_per_finished_order():
    records = {"a": rec("a", 1.0, 1.5), "b": rec("b", 1.0, 2.0, "failed"), "c": None}
    result = drain_result("ecs", 2, 0.5, T0, records, dynamodb_calls=9)
    assert result.dynamodb_calls_per_order == pytest.approx(4.5)
    assert with_derived(result)["dynamodb_calls_per_order"] == pytest.approx(4.5)
    # not counted, or nothing finished: unknown, never 0
    assert drain_result("ecs", 2, 0.5, T0, records).dynamodb_calls_per_order is None
    assert drain_result("ecs", 2, 0.5, T0, {"c": None}, 7).dynamodb_calls_per_order is None


def test_ledger_check():
    check = ledger_check({"a": 1, "b": 0, "c": 2, "d": 1})
    assert check.orders == 4 and check.charged_once == 2
    assert check.never_charged == ("b",) and check.charged_more_than_once == ("c",)
    assert not check.ok
    assert ledger_check({"a": 1}).ok


def test_the_drain_line_prints_every_figure():
    records = {"a": rec("a", 1.0, 1.5), "b": rec("b", 1.0, 1.5), "c": None}
    line = drain_result("ecs", 2, 0.5, T0, records, dynamodb_calls=9).line()
    assert line == (
        "drained 2/3 in 0.5 s: 4.0 orders/s, theoretical 4.0/s, ratio 1.00 "
        "(incl. start-up 1.3/s); DynamoDB calls per order 4.5"
    )


def test_the_drain_line_of_nothing_drained_says_not_measured():
    line = drain_result("ecs", 5, 1.0, T0, {"a": None}).line()
    assert line.count("n/a") == 5 and "theoretical 5.0/s" in line
