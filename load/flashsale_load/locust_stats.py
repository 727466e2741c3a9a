"""Reading locust's output: the final statistics (`--json-file PREFIX` -> PREFIX.json), else the
CSV file (`--csv PREFIX`: PREFIX_stats.csv).

The CSV files are rewritten once a second, so their last state can miss the final second of a
run; the JSON file is written at exit from the final numbers, so summaries prefer it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

AGGREGATED = "Aggregated"


def _num(raw: str | None) -> float | None:
    if raw is None or raw.strip() in {"", "N/A"}:
        return None
    return float(raw)


@dataclass(frozen=True)
class RequestStats:
    """One row of PREFIX_stats.csv: a request name, or the `Aggregated` total."""

    method: str
    name: str
    requests: int
    failures: int
    avg_ms: float | None
    median_ms: float | None
    min_ms: float | None
    max_ms: float | None
    #: None when locust had no span to divide by (no request, or all in one instant)
    rps: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    #: unix time of the first request and of the last one (JSON statistics only)
    first_ts: float | None = None
    last_ts: float | None = None

    @property
    def span_s(self) -> float | None:
        """Seconds from the first request to the last: the span the run really measured."""
        if self.first_ts is None or self.last_ts is None or self.last_ts <= self.first_ts:
            return None
        return self.last_ts - self.first_ts

    @property
    def successes(self) -> int:
        return self.requests - self.failures


def read_stats(path: Path) -> dict[str, RequestStats]:
    """name -> stats; the total row is under `Aggregated`."""
    rows: dict[str, RequestStats] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = RequestStats(
                method=row.get("Type") or "",
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                avg_ms=_num(row.get("Average Response Time")),
                median_ms=_num(row.get("Median Response Time")),
                min_ms=_num(row.get("Min Response Time")),
                max_ms=_num(row.get("Max Response Time")),
                rps=_num(row.get("Requests/s")),
                p50_ms=_num(row.get("50%")),
                p95_ms=_num(row.get("95%")),
                p99_ms=_num(row.get("99%")),
            )
    return rows


def histogram_percentile(histogram: dict[int, int], count: int, fraction: float) -> float | None:
    """Locust's percentile over its rounded response-time histogram (ms -> number of requests);
    None when the histogram holds fewer requests than `count` (nothing measured to rank)."""
    if not count:
        return None
    allowed_above = int(count * fraction)
    seen = 0
    for millis in sorted(histogram, reverse=True):
        seen += histogram[millis]
        if count - seen <= allowed_above:
            return float(millis)
    return None


def _entry_stats(
    name: str, method: str, entries: list[dict], first_ts: float, last_ts: float | None
) -> RequestStats:
    span_s = last_ts - first_ts if last_ts is not None else 0.0
    histogram: dict[int, int] = {}
    for entry in entries:
        for millis, hits in entry["response_times"].items():
            histogram[int(float(millis))] = histogram.get(int(float(millis)), 0) + int(hits)
    requests = sum(int(entry["num_requests"]) for entry in entries)
    failures = sum(int(entry["num_failures"]) for entry in entries)
    timed = requests - sum(int(entry.get("num_none_requests") or 0) for entry in entries)
    total_ms = sum(float(entry["total_response_time"]) for entry in entries)
    minimums = [entry["min_response_time"] for entry in entries if entry["min_response_time"]]
    return RequestStats(
        method=method,
        name=name,
        requests=requests,
        failures=failures,
        avg_ms=total_ms / timed if timed else None,
        median_ms=histogram_percentile(histogram, timed, 0.5),
        min_ms=float(min(minimums)) if minimums else None,
        max_ms=float(max(entry["max_response_time"] for entry in entries)) if entries else None,
        rps=requests / span_s if span_s > 0 else None,
        p50_ms=histogram_percentile(histogram, timed, 0.5),
        p95_ms=histogram_percentile(histogram, timed, 0.95),
        p99_ms=histogram_percentile(histogram, timed, 0.99),
        first_ts=first_ts,
        last_ts=last_ts,
    )


def read_json(path: Path) -> dict[str, RequestStats]:
    """name -> final stats from locust's `--json-file` output, plus the `Aggregated` total."""
    entries = json.loads(path.read_text())
    if not entries:
        return {}
    first = min(float(entry["start_time"]) for entry in entries)
    lasts = [float(e["last_request_timestamp"]) for e in entries if e["last_request_timestamp"]]
    last = max(lasts) if lasts else None
    rows = {
        entry["name"]: _entry_stats(entry["name"], entry["method"], [entry], first, last)
        for entry in entries
    }
    rows[AGGREGATED] = _entry_stats(AGGREGATED, "", entries, first, last)
    return rows


def read_final(prefix: Path) -> dict[str, RequestStats]:
    """The final stats of a run written with `--json-file PREFIX --csv PREFIX`: JSON, else CSV."""
    json_path = prefix.with_name(prefix.name + ".json")
    if json_path.exists():
        return read_json(json_path)
    csv_path = prefix.with_name(prefix.name + "_stats.csv")
    return read_stats(csv_path) if csv_path.exists() else {}
