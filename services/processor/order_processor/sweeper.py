"""The order sweeper: nothing accepted is lost, even when its message is.

An order the API accepted (202) is written `pending` before its OrderPlaced event is published.
The event can still vanish afterwards: the queues of an emulator that restarts lose their
messages, a queue deleted and re-created starts empty, a consumer killed mid-payment takes its
in-flight message with it when the queue is gone. The order then waits forever. The sweeper
finds such orders and publishes their OrderPlaced again, on their own route; consumers are
idempotent on order_id, so a copy that turns out to be a duplicate is harmless.

Which undecided (pending or processing) ECS/Lambda orders are re-published:
- **lost**: last touched before its route's queue was created: every message that queue held
  for it is gone (a re-created queue starts empty), whatever its status;
- **stale**: `pending` for longer than `older_than`, and its route's queue holds fewer messages
  than there are such orders, so some of them certainly have no message. While a backlog could
  still hold every stale order's message (a flash sale draining), nothing is re-published.
An order in `processing` whose queue is intact is never re-published: its message is retrying,
or dead-lettered and waiting for an operator's redrive. Sync orders are paid inline: skipped.
An order re-published once is left alone for `repeat_after` seconds (per process).

Finding undecided orders means scanning the orders table, so a sweep only scans when it can
find something: on its first run, when a route's queue was re-created since the last scan, and
otherwise every `scan_every` seconds (for stale orders). The sweeps between read two queue
attributes and nothing else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from flashsale.domain.model import Order, OrderStatus, Route, parse_utc
from flashsale.events import OrderPlaced
from flashsale.ports import EventPublisher
from order_processor.tally import Tally

log = logging.getLogger(__name__)

SWEPT_ROUTES = (Route.ECS, Route.LAMBDA)
#: Publishes run concurrently so a batching publisher can coalesce them.
PUBLISH_THREADS = 8


class Reason(StrEnum):
    LOST = "lost"  # its queue was re-created after the order's last change
    STALE = "stale"  # pending too long, more such orders than queued messages


@dataclass(frozen=True)
class QueueState:
    messages: int  # visible + in flight + delayed
    created_at: datetime


class UndecidedOrders(Protocol):
    def undecided(self, routes: Iterable[Route]) -> Iterable[Order]:
        """Orders `pending` or `processing` on `routes`."""


class RouteQueues(Protocol):
    def state(self, route: Route) -> QueueState:
        """The route's queue now; raises when it cannot be read (e.g. it does not exist)."""


@dataclass(frozen=True)
class SweepConfig:
    older_than: float = 120.0
    repeat_after: float = 600.0
    #: Scan for stale orders this often; a re-created queue triggers a scan at once.
    scan_every: float = 600.0
    #: Ignore the backlog check: re-publish every stale order (an operator's one-off sweep).
    force: bool = False
    dry_run: bool = False


@dataclass
class SweepResult:
    republished: Tally[Reason] = field(default_factory=lambda: Tally({r: [] for r in Reason}))
    failed: list[str] = field(default_factory=list)
    #: Stale orders left alone because their queue's backlog may still hold their messages.
    waiting: int = 0
    #: Routes whose queue could not be read (nothing of theirs was re-published).
    unreachable: list[str] = field(default_factory=list)
    #: Whether this sweep read the orders table (see Sweeper.sweep).
    scanned: bool = False

    def summary(self) -> dict[str, object]:
        return {
            **self.republished.summary("republished"),
            "failed": len(self.failed),
            "waiting_for_backlog": self.waiting,
            "unreachable_routes": self.unreachable,
        }


class Sweeper:
    def __init__(
        self,
        orders: UndecidedOrders,
        queues: RouteQueues,
        publisher: EventPublisher,
        config: SweepConfig | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.orders = orders
        self.queues = queues
        self.publisher = publisher
        self.config = config or SweepConfig()
        self._clock = clock
        self._monotonic = monotonic
        self._recent: dict[str, float] = {}  # order_id -> when it was re-published
        self._scanned_at: float | None = None
        self._queues_seen: dict[Route, datetime] = {}  # each queue's creation, at the last scan

    def sweep(self) -> SweepResult:
        result = SweepResult()
        states: dict[Route, QueueState] = {}
        for route in SWEPT_ROUTES:
            try:
                states[route] = self.queues.state(route)
            except Exception as exc:
                log.warning("sweep: queue of route %s unreadable: %s", route, exc)
                result.unreachable.append(str(route))
        if not states or not self._scan_due(states):
            return result
        result.scanned = True
        self._scanned_at = self._monotonic()
        self._queues_seen.update({route: state.created_at for route, state in states.items()})
        chosen = self._choose(self.orders.undecided(states), states, result)
        if self.config.dry_run:
            for order, reason in chosen:
                result.republished.add(reason, order.order_id)
        elif chosen:
            self._publish(chosen, result)
            if result.failed:  # e.g. the topic is not back yet: look again next sweep
                self._scanned_at = None
        return result

    def _scan_due(self, states: dict[Route, QueueState]) -> bool:
        if self._scanned_at is None:
            return True
        if any(self._queues_seen.get(route) != state.created_at for route, state in states.items()):
            return True  # a re-created queue: whatever it held is gone
        return self._monotonic() - self._scanned_at >= self.config.scan_every

    def _choose(
        self, undecided: Iterable[Order], states: dict[Route, QueueState], result: SweepResult
    ) -> list[tuple[Order, Reason]]:
        now = self._clock()
        self._forget_old()
        lost: list[Order] = []
        stale: dict[Route, list[Order]] = {route: [] for route in states}
        for order in undecided:
            state = states.get(order.route)
            if state is None or order.order_id in self._recent:
                continue
            if parse_utc(order.updated_at) < state.created_at:
                lost.append(order)
            elif (
                order.status is OrderStatus.PENDING
                and (now - parse_utc(order.created_at)).total_seconds() > self.config.older_than
            ):
                stale[order.route].append(order)
        chosen = [(order, Reason.LOST) for order in lost]
        for route, orders in stale.items():
            if not orders:
                continue
            if self.config.force or states[route].messages < len(orders):
                chosen += [(order, Reason.STALE) for order in orders]
            else:
                result.waiting += len(orders)
        return chosen

    def _publish(self, chosen: list[tuple[Order, Reason]], result: SweepResult) -> None:
        def publish(pair: tuple[Order, Reason]) -> tuple[Order, Reason, Exception | None]:
            order, reason = pair
            try:
                self.publisher.publish(OrderPlaced.from_order(order))
            except Exception as exc:  # PublishError, or anything an adapter raises
                return order, reason, exc
            return order, reason, None

        with ThreadPoolExecutor(min(PUBLISH_THREADS, len(chosen))) as pool:
            outcomes = list(pool.map(publish, chosen))
        for order, reason, error in outcomes:
            fields = {"order_id": order.order_id, "route": str(order.route), "reason": str(reason)}
            if error is None:
                self._recent[order.order_id] = self._monotonic()
                result.republished.add(reason, order.order_id)
                log.info("order re-published", extra={**fields, "status": str(order.status)})
            else:
                result.failed.append(order.order_id)
                log.warning("re-publish failed", extra={**fields, "error": str(error)})

    def _forget_old(self) -> None:
        horizon = self._monotonic() - self.config.repeat_after
        for order_id in [oid for oid, at in self._recent.items() if at < horizon]:
            del self._recent[order_id]


class Report(Protocol):
    def summary(self) -> dict[str, object]: ...


class PeriodicSweeper:
    """Runs `sweeper.sweep()` every `interval` seconds on a daemon thread until `stop()`, and
    `reconcile()` (the payment reconciler, when given) every `reconcile_every` seconds."""

    def __init__(
        self,
        sweeper: Sweeper,
        interval: float,
        reconcile: Callable[[], Report] | None = None,
        reconcile_every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        if interval <= 0 or reconcile_every <= 0:
            raise ValueError("the sweep and reconcile intervals must be positive")
        self.sweeper = sweeper
        self.interval = interval
        self.reconcile = reconcile
        self.reconcile_every = reconcile_every
        self._monotonic = monotonic
        self._reconciled_at = monotonic()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.tick()

    def tick(self) -> None:
        _logged("sweep", self.sweeper.sweep)
        if self.reconcile is None:
            return
        if self._monotonic() - self._reconciled_at < self.reconcile_every:
            return
        self._reconciled_at = self._monotonic()
        _logged("reconcile", self.reconcile)


def _logged(name: str, run: Callable[[], Report]) -> None:
    """Run one pass; log its summary when it found anything, or its failure (the next pass
    runs all the same)."""
    try:
        summary = run().summary()
    except Exception:
        log.exception(f"{name} failed")
        return
    if any(summary.values()):
        log.info(name, extra=summary)
