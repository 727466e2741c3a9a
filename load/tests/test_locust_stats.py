import json

import pytest

from flashsale_load.locust_stats import (
    AGGREGATED,
    histogram_percentile,
    read_final,
    read_json,
    read_stats,
)


def test_csv_stats_rows(fixtures):
    rows = read_stats(fixtures / "browse_stats.csv")
    assert set(rows) == {"search", "product", AGGREGATED}
    search = rows["search"]
    assert (search.method, search.requests, search.failures) == ("GET", 7, 0)
    assert search.p50_ms == 3 and search.p99_ms == 12
    assert rows[AGGREGATED].requests == 8


def test_json_holds_the_final_numbers_the_csv_can_miss(fixtures):
    """The CSV is rewritten once a second; the JSON is written at exit (9 requests, not 8)."""
    rows = read_json(fixtures / "browse.json")
    assert rows["search"].requests == 7
    assert rows["product"].requests == 2
    total = rows[AGGREGATED]
    assert total.requests == 9 and total.failures == 0
    assert total.p50_ms == 3  # 5 of 9 requests took <= 3 ms
    assert total.p99_ms == 12
    assert total.min_ms is not None and total.min_ms < 3
    assert total.rps > 0


def test_histogram_percentile_matches_locust():
    histogram = {10: 90, 20: 9, 500: 1}
    assert histogram_percentile(histogram, 100, 0.5) == 10
    assert histogram_percentile(histogram, 100, 0.95) == 20
    assert histogram_percentile(histogram, 100, 0.98) == 20
    assert histogram_percentile(histogram, 100, 0.99) == 500  # the slowest 1% is that request
    assert histogram_percentile({}, 0, 0.5) is None
    # fewer requests in the histogram than counted: nothing to rank, not 0 ms
    assert histogram_percentile({10: 1}, 5, 0.5) is None


def test_read_final_prefers_json(fixtures, tmp_path):
    run = fixtures / "compare" / "async-ecs"
    from_json = read_final(run / "locust")
    assert from_json["order async-ecs"].requests == 37
    # without the JSON file, the CSV's (lagging) numbers are used
    (tmp_path / "locust_stats.csv").write_bytes((run / "locust_stats.csv").read_bytes())
    assert read_final(tmp_path / "locust")["order async-ecs"].requests == 30
    assert read_final(tmp_path / "missing") == {}


def test_what_was_not_measured_is_none_not_zero(tmp_path):
    """A request that never got an answer (no last timestamp) has no rate and no percentile."""
    entry = {
        "name": "order async-ecs",
        "method": "POST",
        "start_time": 1000.0,
        "last_request_timestamp": None,
        "num_requests": 0,
        "num_failures": 0,
        "num_none_requests": 0,
        "total_response_time": 0,
        "min_response_time": None,
        "max_response_time": 0,
        "response_times": {},
    }
    path = tmp_path / "locust.json"
    path.write_text(json.dumps([entry]))
    stats = read_json(path)["order async-ecs"]
    assert stats.rps is None and stats.span_s is None
    assert stats.p50_ms is None and stats.p99_ms is None and stats.avg_ms is None
    csv_path = tmp_path / "stats.csv"
    csv_path.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Requests/s,50%,95%,99%\n"
        "POST,order sync,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n"
    )
    row = read_stats(csv_path)["order sync"]
    assert row.rps is None and row.p99_ms is None


def test_the_measured_span_runs_from_the_first_request_to_the_last(fixtures):
    total = read_json(fixtures / "browse.json")[AGGREGATED]
    assert total.span_s is not None and total.span_s > 0
    assert total.rps == pytest.approx(total.requests / total.span_s)
