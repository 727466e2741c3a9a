from flashsale_load.locust_stats import (
    AGGREGATED,
    histogram_percentile,
    read_final,
    read_history,
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


def test_read_final_prefers_json(fixtures, tmp_path):
    run = fixtures / "compare" / "async-ecs"
    from_json = read_final(run / "locust")
    assert from_json["order async-ecs"].requests == 37
    # without the JSON file, the CSV's (lagging) numbers are used
    (tmp_path / "locust_stats.csv").write_bytes((run / "locust_stats.csv").read_bytes())
    assert read_final(tmp_path / "locust")["order async-ecs"].requests == 30
    assert read_final(tmp_path / "missing") == {}


def test_history_rows(fixtures):
    points = read_history(fixtures / "compare" / "async-ecs" / "locust_stats_history.csv")
    assert points and points[0].total_requests == 0
    assert points[-1].users == 3
    assert [p.ts for p in points] == sorted(p.ts for p in points)
    assert points[0].p99_ms is None  # "N/A" before the first request
