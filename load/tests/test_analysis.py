import pytest

from flashsale_load.analysis import (
    OrderRecord,
    QueueSample,
    completions_over_time,
    parse_ts,
    peak_depth,
    percentile,
    queue_series,
    summarize_phase,
)
from flashsale_load.locust_stats import RequestStats
from flashsale_load.orderlog import AcceptedOrder, OrdersLog

T0 = 1_000_000.0


def record(oid, status, created, done=None, failed=None):
    return OrderRecord(
        oid,
        status,
        "ecs",
        T0 + created,
        completed_ts=None if done is None else T0 + done,
        failed_ts=None if failed is None else T0 + failed,
    )


def test_parse_ts():
    assert parse_ts("1970-01-01T00:00:01.500Z") == 1.5
    assert parse_ts(None) is None


def test_from_api_body():
    rec = OrderRecord.from_api(
        {
            "order_id": "o1",
            "status": "completed",
            "route": "lambda",
            "created_at": "1970-01-01T00:00:10.000Z",
            "processing_at": "1970-01-01T00:00:11.000Z",
            "completed_at": "1970-01-01T00:00:13.250Z",
        }
    )
    assert rec.is_terminal and rec.completion_s == 3.25 and rec.processing_ts == 11.0
    assert rec.failed_ts is None


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def test_summary_of_a_phase():
    log = OrdersLog(
        start_ts=T0,
        stop_ts=T0 + 10,
        orders=[AcceptedOrder(oid, "async-ecs", T0 + 1, 202) for oid in "abcde"],
    )
    records = {
        "a": record("a", "completed", 1, done=4),  # 3 s, within the window
        "b": record("b", "completed", 2, done=8),  # 6 s, within
        "c": record("c", "completed", 3, done=15),  # 12 s, after the window
        "d": record("d", "failed", 4, failed=9),
        "e": record("e", "pending", 5),
    }
    stats = RequestStats("order async-ecs", 6, 1, 33.0, 30.0, 90.0, 0.6)
    s = summarize_phase("async-ecs", log, records, stats, peak_queue_depth=4)
    assert s.window_s == 10
    assert (s.requests, s.request_failures, s.accepted) == (6, 1, 5)
    assert (s.completed_in_window, s.completed_after_window, s.failed, s.unfinished) == (
        2,
        1,
        1,
        1,
    )
    assert s.lost == 0
    assert s.completion_avg_s == pytest.approx(7.0)
    assert s.completion_p50_s == 6 and s.completion_p99_s == 12
    assert s.response_avg_ms == 33.0 and s.response_p99_ms == 90.0
    assert s.success_rate == pytest.approx(3 / 6)
    assert s.drain_s == pytest.approx(5.0)  # the last outcome came 5 s after the window
    assert s.accepted_per_s == 0.5
    assert s.peak_queue_depth == 4


def test_summary_counts_an_order_the_api_lost_as_unfinished():
    log = OrdersLog(T0, T0 + 1, [AcceptedOrder("x", "sync", T0, 200)])
    s = summarize_phase("sync", log, {"x": None}, None)
    assert s.accepted == 1 and s.lost == 1 and s.unfinished == 0 and s.completed == 0
    assert s.drain_s is None
    # without locust's statistics the requests were not counted: n/a, not 0 and not the accepted
    assert s.requests is None and s.request_failures is None and s.success_rate is None


def test_completions_over_time_is_cumulative_from_zero():
    records = [
        record("a", "completed", 0, done=0.5),
        record("b", "completed", 0, done=0.9),
        record("c", "completed", 0, done=2.5),
        record("d", "failed", 0, failed=1.0),
    ]
    assert completions_over_time(records, T0) == [(0.0, 0), (1.0, 2), (2.0, 2), (3.0, 3)]
    assert completions_over_time([], T0) == []


def test_queue_series_and_peak():
    samples = [
        QueueSample(T0 + 1, "async-ecs", "order-queue", 3, 2),
        QueueSample(T0 + 1, "async-ecs", "payment-queue", 0, 0),
        QueueSample(T0 + 2, "async-ecs", "order-queue", 1, 1),
        QueueSample(T0 + 2, "sync", "order-queue", 9, 0),
    ]
    assert queue_series(samples, "async-ecs", "order-queue", T0) == [(1.0, 5), (2.0, 2)]
    assert peak_depth(samples, "async-ecs") == 5
    assert peak_depth(samples, "async-lambda") is None
