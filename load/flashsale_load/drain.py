"""How fast a backlog drained against the gateway's theoretical rate: plain functions, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flashsale_load.analysis import OrderRecord
from flashsale_load.report import fmt_num, quotient


@dataclass(frozen=True)
class DrainResult:
    consumer: str
    concurrency: int
    latency_s: float
    backlog: int
    completed: int
    failed: int
    #: accepted orders not completed or failed when the wait ended (or unknown to the API)
    unfinished: int
    #: when the consumer was told to start
    resumed_ts: float
    #: when the first order of the backlog was picked up
    first_start_ts: float | None
    last_done_ts: float | None
    #: DynamoDB requests served while the backlog drained (None: not counted)
    dynamodb_calls: int | None = None

    @property
    def finished(self) -> int:
        return self.completed + self.failed

    @property
    def theoretical_per_s(self) -> float:
        """The gateway's ceiling: `concurrency` payments of `latency_s` each, back to back."""
        return self.concurrency / self.latency_s

    @property
    def steady_s(self) -> float | None:
        """First pick-up to last outcome: the drain itself, without the consumer's start-up."""
        if self.first_start_ts is None or self.last_done_ts is None:
            return None
        return max(self.last_done_ts - self.first_start_ts, 1e-9)

    @property
    def wall_s(self) -> float | None:
        """Start command to last outcome."""
        if self.last_done_ts is None:
            return None
        return max(self.last_done_ts - self.resumed_ts, 1e-9)

    rate_per_s = quotient("finished", "steady_s")
    wall_rate_per_s = quotient("finished", "wall_s")
    dynamodb_calls_per_order = quotient("dynamodb_calls", "finished")
    ratio = quotient("rate_per_s", "theoretical_per_s")

    def line(self) -> str:
        """The drain's figures in one line (`make bench` and `make load-workers`)."""
        return (
            f"drained {self.finished}/{self.backlog} in {fmt_num(self.steady_s, 1, 's')}: "
            f"{fmt_num(self.rate_per_s, 1)} orders/s, theoretical {self.theoretical_per_s:.1f}/s, "
            f"ratio {fmt_num(self.ratio, 2)} (incl. start-up {fmt_num(self.wall_rate_per_s, 1)}"
            f"/s); DynamoDB calls per order {fmt_num(self.dynamodb_calls_per_order, 1)}"
        )


def drain_result(
    consumer: str,
    concurrency: int,
    latency_s: float,
    resumed_ts: float,
    records: Mapping[str, OrderRecord | None],
    dynamodb_calls: int | None = None,
) -> DrainResult:
    finals = [record for record in records.values() if record is not None]
    done = [record for record in finals if record.is_terminal]
    starts = [r.processing_ts for r in done if r.processing_ts is not None]
    ends = [r.finished_ts for r in done if r.finished_ts is not None]
    return DrainResult(
        consumer=consumer,
        concurrency=concurrency,
        latency_s=latency_s,
        backlog=len(records),
        completed=sum(1 for record in done if record.status == "completed"),
        failed=sum(1 for record in done if record.status == "failed"),
        unfinished=len(records) - len(done),
        resumed_ts=resumed_ts,
        first_start_ts=min(starts) if starts else (resumed_ts if ends else None),
        last_done_ts=max(ends) if ends else None,
        dynamodb_calls=dynamodb_calls,
    )


@dataclass(frozen=True)
class LedgerCheck:
    """Charges per order in the gateway's ledger: each accepted order exactly once."""

    orders: int
    charged_once: int
    never_charged: tuple[str, ...]
    charged_more_than_once: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.never_charged and not self.charged_more_than_once


def ledger_check(charges: Mapping[str, int]) -> LedgerCheck:
    return LedgerCheck(
        orders=len(charges),
        charged_once=sum(1 for count in charges.values() if count == 1),
        never_charged=tuple(sorted(oid for oid, count in charges.items() if count == 0)),
        charged_more_than_once=tuple(sorted(oid for oid, count in charges.items() if count > 1)),
    )
