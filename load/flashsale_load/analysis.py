"""From what a run recorded to the figures of the phase tables: plain functions, no I/O."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from flashsale.domain.model import parse_utc
from flashsale_load.locust_stats import RequestStats
from flashsale_load.orderlog import OrdersLog

TERMINAL = frozenset({"completed", "failed"})


def parse_ts(value: str | None) -> float | None:
    """The API's ISO-8601 UTC timestamps (`2026-01-31T12:00:00.123Z`) as unix seconds."""
    return parse_utc(value).timestamp() if value else None


@dataclass(frozen=True)
class OrderRecord:
    """An order as GET /orders/<id> last showed it."""

    order_id: str
    status: str
    route: str | None
    created_ts: float | None
    completed_ts: float | None = None
    failed_ts: float | None = None
    processing_ts: float | None = None

    @classmethod
    def from_api(cls, body: Mapping[str, object]) -> OrderRecord:
        def text(key: str) -> str | None:
            value = body.get(key)
            return value if isinstance(value, str) else None

        return cls(
            order_id=str(body["order_id"]),
            status=str(body.get("status", "unknown")),
            route=text("route"),
            created_ts=parse_ts(text("created_at")),
            completed_ts=parse_ts(text("completed_at")),
            failed_ts=parse_ts(text("failed_at")),
            processing_ts=parse_ts(text("processing_at")),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def finished_ts(self) -> float | None:
        return self.completed_ts or self.failed_ts

    @property
    def completion_s(self) -> float | None:
        """Seconds from acceptance to completion."""
        if self.status != "completed" or self.completed_ts is None or self.created_ts is None:
            return None
        return max(self.completed_ts - self.created_ts, 0.0)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class PhaseSummary:
    phase: str
    window_s: float
    #: locust's count of order requests (None: its statistics are missing)
    requests: int | None
    request_failures: int | None
    response_avg_ms: float | None
    response_p50_ms: float | None
    response_p99_ms: float | None
    accepted: int
    completed_in_window: int
    completed_after_window: int
    failed: int
    #: known to the API but not completed or failed when the wait ended
    unfinished: int
    #: accepted, then unknown to the API (GET /orders/<id> did not find it)
    lost: int
    completion_avg_s: float | None
    completion_p50_s: float | None
    completion_p99_s: float | None
    drain_s: float | None
    peak_queue_depth: int | None
    #: messages in both work queues when the phase's load began (None: not recorded)
    start_queue_depth: int | None = None
    #: unfinished orders failed with their stock released when the wait ended (None: not recorded)
    released: int | None = None
    #: queue depth samples that failed during the phase (None: not recorded)
    sampler_errors: int | None = None

    @property
    def completed(self) -> int:
        return self.completed_in_window + self.completed_after_window

    @property
    def success_rate(self) -> float | None:
        """Completed orders per order request sent (rejections and timeouts count against)."""
        return self.completed / self.requests if self.requests else None

    @property
    def accepted_per_s(self) -> float | None:
        return self.accepted / self.window_s if self.window_s > 0 else None


def summarize_phase(
    phase: str,
    log: OrdersLog,
    records: Mapping[str, OrderRecord | None],
    order_stats: RequestStats | None,
    peak_queue_depth: int | None = None,
    **recorded: int | None,
) -> PhaseSummary:
    """The phase table's figures from the orders log, the orders' final states and locust's
    statistics of the order requests; `recorded`: the phase's start depth, released orders and
    sampler errors, as the run wrote them."""
    start = log.start_ts or min((o.accepted_ts for o in log.orders), default=0.0)
    end = log.stop_ts or max((o.accepted_ts for o in log.orders), default=start)
    known = [records.get(order_id) for order_id in dict.fromkeys(log.order_ids)]
    finals = [record for record in known if record is not None]
    completed = [record for record in finals if record.status == "completed"]
    in_window = [r for r in completed if r.completed_ts is not None and r.completed_ts <= end]
    times = [t for t in (record.completion_s for record in completed) if t is not None]
    last_done = max(
        (r.completed_ts or r.failed_ts or 0.0 for r in finals if r.is_terminal), default=None
    )
    return PhaseSummary(
        phase=phase,
        window_s=max(end - start, 0.0),
        requests=order_stats.requests if order_stats else None,
        request_failures=order_stats.failures if order_stats else None,
        response_avg_ms=order_stats.avg_ms if order_stats else None,
        response_p50_ms=order_stats.p50_ms if order_stats else None,
        response_p99_ms=order_stats.p99_ms if order_stats else None,
        accepted=len(known),
        completed_in_window=len(in_window),
        completed_after_window=len(completed) - len(in_window),
        failed=sum(1 for record in finals if record.status == "failed"),
        unfinished=sum(1 for record in finals if not record.is_terminal),
        lost=len(known) - len(finals),
        completion_avg_s=mean(times),
        completion_p50_s=percentile(times, 0.50),
        completion_p99_s=percentile(times, 0.99),
        drain_s=max(last_done - end, 0.0) if last_done is not None else None,
        peak_queue_depth=peak_queue_depth,
        **recorded,
    )


def completions_over_time(
    records: Iterable[OrderRecord], t0: float, bucket_s: float = 1.0
) -> list[tuple[float, int]]:
    """Cumulative completed orders at the end of each `bucket_s` since `t0` (from (0, 0))."""
    offsets = sorted(
        r.completed_ts - t0 for r in records if r.status == "completed" and r.completed_ts
    )
    if not offsets:
        return []
    edges = [step * bucket_s for step in range(1, max(math.ceil(offsets[-1] / bucket_s), 1) + 1)]
    return [(0.0, 0), *((edge, bisect.bisect_right(offsets, edge)) for edge in edges)]


@dataclass(frozen=True)
class QueueSample:
    ts: float
    label: str
    queue: str
    visible: int
    in_flight: int

    @property
    def depth(self) -> int:
        return self.visible + self.in_flight


@dataclass(frozen=True)
class SamplerErrors:
    """Queue depth samples that failed under one label, and the last error seen."""

    count: int = 0
    last: str | None = None

    def add(self, error: str) -> SamplerErrors:
        return SamplerErrors(self.count + 1, error)


def peak_depth(samples: Iterable[QueueSample], label: str) -> int | None:
    depths = [sample.depth for sample in samples if sample.label == label]
    return max(depths) if depths else None


def queue_series(
    samples: Iterable[QueueSample], label: str, queue: str, t0: float
) -> list[tuple[float, int]]:
    return [
        (sample.ts - t0, sample.depth)
        for sample in samples
        if sample.label == label and sample.queue == queue
    ]
