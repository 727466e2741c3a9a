"""locust's own figures, written by the locust process (checked in a child interpreter:
importing locust patches the process with gevent) and read back by the tools."""

import json
import subprocess
import sys

from flashsale_load import locust_stats
from flashsale_load.locust_stats import AGGREGATED

PROBE = """
import json, sys
from pathlib import Path
from locust.stats import RequestStats
from flashsale_load import locust_stats
stats = RequestStats()
for millis in [10] * 90 + [20] * 9 + [500]:
    stats.log_request("POST", "order async-ecs", millis, 0)
stats.log_error("POST", "order async-ecs", "boom")
stats.get("search", "GET")  # named, never requested: nothing measured
locust_stats.write(stats, Path(sys.argv[1]) / locust_stats.SUMMARY)
entry = stats.get("order async-ecs", "POST")
print(json.dumps([entry.get_response_time_percentile(p) for p in (0.5, 0.99)]))
"""


def test_the_figures_are_locusts_own_and_what_was_not_measured_is_none(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    p50, p99 = json.loads(done.stdout.strip().splitlines()[-1])
    rows = locust_stats.read(tmp_path)
    order = rows["order async-ecs"]
    assert (order.requests, order.failures, order.successes) == (100, 1, 99)
    assert (order.p50_ms, order.p99_ms) == (p50, p99) == (10, 500)
    assert order.avg_ms == (900 + 180 + 500) / 100
    assert rows[AGGREGATED].requests == 100
    search = rows["search"]
    assert search.requests == 0
    assert search.avg_ms is None and search.p50_ms is None and search.p99_ms is None
    assert search.rps is None


def test_a_recorded_run_and_a_run_without_figures(fixtures, tmp_path):
    rows = locust_stats.read(fixtures / "compare" / "async-ecs")
    order = rows["order async-ecs"]
    assert (order.requests, order.failures, order.p50_ms, order.p99_ms) == (37, 0, 5, 17)
    assert order.rps is not None and order.first_ts < order.last_ts
    assert locust_stats.read(tmp_path) == {}
