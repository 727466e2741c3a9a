"""Fetch traces from the X-Ray API (moto locally, AWS when pointed there) and filter them.

Filtering happens here rather than in a FilterExpression: moto implements neither filter
expressions nor annotations in summaries, and the same code then works on both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flashsale_traces.model import Trace

BATCH = 5  # BatchGetTraces takes at most 5 ids


@dataclass(frozen=True)
class TraceFilter:
    order_id: str | None = None
    route: str | None = None
    min_duration: float | None = None  # seconds
    trace_id: str | None = None

    def matches(self, trace: Trace) -> bool:
        if self.trace_id and trace.id != self.trace_id:
            return False
        if self.order_id and str(trace.annotation("order_id")) != self.order_id:
            return False
        if self.route and str(trace.annotation("route")) != self.route:
            return False
        return not (self.min_duration is not None and trace.duration < self.min_duration)


def trace_epoch(trace_id: str) -> int:
    """Trace ids are `1-<8 hex digits of epoch seconds>-<24 hex digits>`."""
    try:
        return int(trace_id.split("-")[1], 16)
    except (IndexError, ValueError):
        return 0


def trace_ids(xray: Any, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Ids of the traces in the window, newest first."""
    ids: set[str] = set()
    kwargs: dict[str, Any] = {"StartTime": start, "EndTime": end}
    while True:
        page = xray.get_trace_summaries(**kwargs)
        ids.update(summary["Id"] for summary in page.get("TraceSummaries", []))
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    return sorted(ids, key=lambda i: (trace_epoch(i), i), reverse=True)


def fetch(xray: Any, ids: list[str]) -> Iterator[Trace]:
    for i in range(0, len(ids), BATCH):
        kwargs: dict[str, Any] = {"TraceIds": ids[i : i + BATCH]}
        while True:
            page = xray.batch_get_traces(**kwargs)
            for trace in page.get("Traces", []):
                yield Trace.from_api(trace)
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token


def find(
    xray: Any,
    since: dt.timedelta,
    where: TraceFilter,
    limit: int = 20,
    now: dt.datetime | None = None,
) -> list[Trace]:
    """Up to `limit` traces matching `where` in the last `since`, newest first."""
    if where.trace_id:
        return [t for t in fetch(xray, [where.trace_id]) if where.matches(t)]
    end = now or dt.datetime.now(dt.UTC)
    found = []
    for trace in fetch(xray, trace_ids(xray, end - since, end + dt.timedelta(minutes=1))):
        if where.matches(trace):
            found.append(trace)
            if len(found) >= limit:
                break
    return sorted(found, key=lambda t: t.start, reverse=True)
