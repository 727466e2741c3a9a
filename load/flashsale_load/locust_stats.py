"""locust's final figures per request name, as locust itself computes them (its `StatsEntry`:
average, percentiles, rate), written by the locust process as it quits (`write`, called from
users.py) into `<run>/locust_summary.json`, and read back by the tools, which must not import
locust (it patches the importing process with gevent). A figure locust had nothing to compute
from (no timed request, no span) is None.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AGGREGATED = "Aggregated"
SUMMARY = "locust_summary.json"


@dataclass(frozen=True)
class RequestStats:
    """One request name's final figures, or the `Aggregated` total."""

    name: str
    requests: int
    failures: int
    avg_ms: float | None
    p50_ms: float | None
    p99_ms: float | None
    #: None when locust had no span to divide by (no request, or all in one instant)
    rps: float | None
    #: unix time of the first request and of the last one
    first_ts: float | None = None
    last_ts: float | None = None

    @property
    def successes(self) -> int:
        return self.requests - self.failures


def _figures(entry: Any) -> RequestStats:
    """A locust `StatsEntry`'s figures (duck-typed: this module does not import locust)."""
    timed = entry.num_requests - entry.num_none_requests
    return RequestStats(
        name=entry.name,
        requests=entry.num_requests,
        failures=entry.num_failures,
        avg_ms=entry.avg_response_time if timed else None,
        p50_ms=float(entry.get_response_time_percentile(0.5)) if timed else None,
        p99_ms=float(entry.get_response_time_percentile(0.99)) if timed else None,
        rps=entry.total_rps or None,
        first_ts=entry.stats.start_time,
        last_ts=entry.stats.last_request_timestamp,
    )


def write(stats: Any, path: Path) -> None:
    """Inside locust: its `RequestStats`' figures, each request name's and the total's."""
    rows = [_figures(entry) for entry in [*stats.entries.values(), stats.total]]
    path.write_text(json.dumps({row.name: row.__dict__ for row in rows}, indent=2))


def read(run_dir: Path) -> dict[str, RequestStats]:
    """name -> the final figures of the locust run written into `run_dir` ({} if none)."""
    path = run_dir / SUMMARY
    if not path.exists():
        return {}
    return {name: RequestStats(**row) for name, row in json.loads(path.read_text()).items()}
