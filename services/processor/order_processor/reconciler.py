"""The reconciler: orders whose charge's outcome is unknown are settled from the gateway's answer.

A charge whose answer was lost (a timeout, a ledger write that may have happened) leaves its
order `processing` with its stock held: it may be charged, so nobody may fail it or free its
stock on a guess. The reconciler finds orders `processing` for longer than `older_than`, asks the
gateway for the charge made with the order's idempotency key, and records what the gateway says
(completed, or failed with the stock released). When the gateway has no charge:
- a sync order (paid inline, no message will come back for it) is charged again with the same
  key, so a request that did reach the gateway meanwhile is replayed, not doubled;
- an async order is left to its message: it is retrying, or dead-lettered and waiting for an
  operator's redrive.
Runs inside the processor (every `--reconcile-every` seconds) and as `make reconcile`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flashsale.domain.model import Order, OrderStatus, Route, parse_utc
from flashsale.services.payments import (
    PaymentDeps,
    PaymentOutcome,
    TransientPaymentError,
    reconcile_payment,
)
from order_processor.sweeper import UndecidedOrders
from order_processor.tally import Tally

log = logging.getLogger(__name__)

ALL_ROUTES = (Route.SYNC, Route.ECS, Route.LAMBDA)
#: Orders settled at once (a sync order charged again waits out the gateway's latency).
RECONCILE_THREADS = 8


@dataclass(frozen=True)
class ReconcileConfig:
    #: An order `processing` this long without a change counts as an unknown outcome.
    older_than: float = 60.0
    dry_run: bool = False


@dataclass
class ReconcileResult:
    #: final status -> order ids settled by this run
    settled: Tally[str] = field(default_factory=Tally)
    #: no charge at the gateway: left to the order's message (async orders)
    left_to_message: list[str] = field(default_factory=list)
    #: the gateway could not answer, or failed again: still `processing`
    unresolved: list[str] = field(default_factory=list)
    #: found, not touched (dry run)
    found: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            **self.settled.summary("settled"),
            "left_to_message": len(self.left_to_message),
            "unresolved": len(self.unresolved),
        }


class Reconciler:
    def __init__(
        self,
        orders: UndecidedOrders,
        deps: PaymentDeps,
        config: ReconcileConfig | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.orders = orders
        self.deps = deps
        self.config = config or ReconcileConfig()
        self._clock = clock

    def candidates(self) -> list[Order]:
        """Orders `processing` for longer than the bound, on every route."""
        now = self._clock()
        return [
            order
            for order in self.orders.undecided(ALL_ROUTES)
            if order.status is OrderStatus.PROCESSING
            and (now - parse_utc(order.updated_at)).total_seconds() > self.config.older_than
        ]

    def reconcile(self) -> ReconcileResult:
        result = ReconcileResult()
        stuck = self.candidates()
        if self.config.dry_run or not stuck:
            result.found = [order.order_id for order in stuck]
            return result
        with ThreadPoolExecutor(min(RECONCILE_THREADS, len(stuck))) as pool:
            outcomes = list(pool.map(self._settle, stuck))
        for order, outcome in zip(stuck, outcomes, strict=True):
            if isinstance(outcome, PaymentOutcome):
                result.settled.add(str(outcome.status), order.order_id)
                log.info(
                    "order reconciled",
                    extra={
                        "order_id": order.order_id,
                        "route": str(order.route),
                        "status": str(outcome.status),
                        "charged": outcome.charged,
                    },
                )
            elif outcome is None:
                result.left_to_message.append(order.order_id)
            else:
                result.unresolved.append(order.order_id)
                log.warning(
                    "order not reconciled", extra={"order_id": order.order_id, "error": outcome}
                )
        return result

    def _settle(self, order: Order) -> PaymentOutcome | str | None:
        try:
            return reconcile_payment(
                order.order_id, self.deps, charge_if_absent=order.route is Route.SYNC
            )
        except TransientPaymentError as exc:
            return str(exc)
        except Exception as exc:  # one order's trouble must not stop the others
            log.exception("reconciling failed", extra={"order_id": order.order_id})
            return repr(exc)


def print_result(result: ReconcileResult, dry_run: bool, out: Callable[[str], None]) -> None:
    if dry_run:
        out(f"{len(result.found)} order(s) processing past the bound (dry run: untouched)")
        _ids(out, "found", result.found)
        return
    settled = ", ".join(f"{len(ids)} {status}" for status, ids in sorted(result.settled.items()))
    out(
        f"reconciled {result.settled.total} order(s){': ' + settled if settled else ''}; "
        f"{len(result.left_to_message)} without a charge left to their message; "
        f"{len(result.unresolved)} unresolved"
    )
    for status, ids in result.settled.items():
        _ids(out, status, ids)
    _ids(out, "message", result.left_to_message)
    _ids(out, "open", result.unresolved)


def _ids(out: Callable[[str], None], label: str, ids: Iterable[str]) -> None:
    for order_id in ids:
        out(f"  {label:<10} {order_id}")
