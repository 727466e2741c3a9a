"""The sweeper's rules, with in-memory orders, queues and publisher."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from flashsale.domain.model import Order, OrderItem, OrderStatus, Route
from flashsale.ports import PublishError
from flashsale_testing.memory import InMemoryEventPublisher
from order_processor.sweeper import (
    PeriodicSweeper,
    QueueState,
    Reason,
    SweepConfig,
    Sweeper,
)

from .conftest import wait_until

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
QUEUE_BORN = NOW - timedelta(hours=1)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def order(age: float, status: OrderStatus = OrderStatus.PENDING, route: Route = Route.ECS) -> Order:
    """An order created `age` seconds before NOW, last changed then too."""
    placed = Order.new(7, [OrderItem(1, 1, Decimal("2.00"))], route)
    placed.created_at = placed.updated_at = iso(NOW - timedelta(seconds=age))
    placed.status = status
    return placed


class Orders:
    def __init__(self, *orders: Order):
        self.orders = list(orders)
        self.asked: list[list[Route]] = []

    def undecided(self, routes):
        routes = list(routes)
        self.asked.append(routes)
        return [
            o
            for o in self.orders
            if o.route in routes and o.status in {OrderStatus.PENDING, OrderStatus.PROCESSING}
        ]


class Queues:
    def __init__(self, messages: int = 0, created_at: datetime = QUEUE_BORN):
        self.states = {
            Route.ECS: QueueState(messages, created_at),
            Route.LAMBDA: QueueState(messages, created_at),
        }
        self.broken: set[Route] = set()

    def state(self, route: Route) -> QueueState:
        if route in self.broken:
            raise RuntimeError("queue does not exist")
        return self.states[route]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sweeper(orders: Orders, queues: Queues, publisher=None, clock=None, **config) -> Sweeper:
    return Sweeper(
        orders,
        queues,
        publisher or InMemoryEventPublisher(),
        SweepConfig(**config),
        clock=lambda: NOW,
        monotonic=clock or Clock(),
    )


def published(publisher: InMemoryEventPublisher) -> list[str]:
    return [event.order_id for event in publisher.events]


def test_a_pending_order_past_the_threshold_with_an_empty_queue_is_republished_on_its_route():
    old_ecs, old_lambda, young = order(300), order(300, route=Route.LAMBDA), order(10)
    publisher = InMemoryEventPublisher()
    result = sweeper(Orders(old_ecs, old_lambda, young), Queues(), publisher).sweep()
    assert sorted(published(publisher)) == sorted([old_ecs.order_id, old_lambda.order_id])
    routes = {event.order_id: event.route for event in publisher.events}
    assert routes == {old_ecs.order_id: Route.ECS, old_lambda.order_id: Route.LAMBDA}
    assert sorted(result.republished[Reason.STALE]) == sorted(published(publisher))
    assert result.republished.total == 2 and not result.failed


def test_the_republished_event_is_the_orders_own():
    stale = order(300)
    publisher = InMemoryEventPublisher()
    sweeper(Orders(stale), Queues(), publisher).sweep()
    event = publisher.events[0]
    assert (event.order_id, event.customer_id, event.total) == (
        stale.order_id,
        stale.customer_id,
        stale.total,
    )
    assert list(event.items) == stale.items


def test_stale_orders_wait_while_the_queue_could_still_hold_their_messages():
    backlog = [order(300 + i) for i in range(3)]
    publisher = InMemoryEventPublisher()
    result = sweeper(Orders(*backlog), Queues(messages=3), publisher).sweep()
    assert published(publisher) == [] and result.waiting == 3
    # fewer messages queued than stale orders: some certainly lost theirs
    result = sweeper(Orders(*backlog), Queues(messages=2), publisher).sweep()
    assert len(published(publisher)) == 3 and result.waiting == 0


def test_force_ignores_the_backlog():
    publisher = InMemoryEventPublisher()
    sweeper(Orders(order(300)), Queues(messages=50), publisher, force=True).sweep()
    assert len(published(publisher)) == 1


def test_orders_older_than_a_recreated_queue_are_lost_whatever_their_age_or_status():
    recreated = NOW - timedelta(seconds=5)
    pending, processing = order(20), order(30, OrderStatus.PROCESSING, Route.LAMBDA)
    fresh = order(1)  # placed after the queue came back: its message exists
    publisher = InMemoryEventPublisher()
    result = sweeper(
        Orders(pending, processing, fresh), Queues(messages=100, created_at=recreated), publisher
    ).sweep()
    assert sorted(published(publisher)) == sorted([pending.order_id, processing.order_id])
    assert sorted(result.republished[Reason.LOST]) == sorted(published(publisher))


def test_processing_orders_of_an_intact_queue_are_left_to_retries_and_the_dlq():
    stuck = order(3600, OrderStatus.PROCESSING)
    publisher = InMemoryEventPublisher()
    result = sweeper(Orders(stuck), Queues(), publisher).sweep()
    assert published(publisher) == [] and result.republished.total == 0


def test_sync_orders_are_never_swept():
    orders = Orders(order(3600, route=Route.SYNC))
    publisher = InMemoryEventPublisher()
    sweeper(orders, Queues(), publisher).sweep()
    assert published(publisher) == []
    assert Route.SYNC not in orders.asked[0]


def test_an_order_is_republished_again_only_after_repeat_after():
    stale = order(300)
    clock = Clock()
    publisher = InMemoryEventPublisher()
    sweep = sweeper(Orders(stale), Queues(), publisher, clock=clock, repeat_after=600, scan_every=0)
    sweep.sweep()
    clock.now = 599
    sweep.sweep()
    assert len(published(publisher)) == 1
    clock.now = 601
    sweep.sweep()
    assert len(published(publisher)) == 2


def test_a_failed_publish_is_reported_and_retried_next_sweep():
    stale = order(300)
    publisher = InMemoryEventPublisher()
    publisher.fail_with = "topic does not exist"
    sweep = sweeper(Orders(stale), Queues(), publisher)
    result = sweep.sweep()
    assert result.failed == [stale.order_id] and result.republished.total == 0
    publisher.fail_with = None
    assert sweep.sweep().republished[Reason.STALE] == [stale.order_id]


def test_an_unreadable_queue_skips_its_route_only():
    ecs, lam = order(300), order(300, route=Route.LAMBDA)
    queues = Queues()
    queues.broken.add(Route.LAMBDA)
    publisher = InMemoryEventPublisher()
    result = sweeper(Orders(ecs, lam), queues, publisher).sweep()
    assert published(publisher) == [ecs.order_id]
    assert result.unreachable == ["lambda"]


def test_dry_run_lists_without_publishing():
    stale = order(300)
    publisher = InMemoryEventPublisher()
    result = sweeper(Orders(stale), Queues(), publisher, dry_run=True).sweep()
    assert published(publisher) == []
    assert result.republished[Reason.STALE] == [stale.order_id]


def test_periodic_sweeps_until_stopped():
    calls: list[int] = []

    class Counting(Sweeper):
        def sweep(self):
            calls.append(1)
            if len(calls) == 2:
                raise PublishError("a failing sweep does not stop the next one")
            return super().sweep()

    periodic = PeriodicSweeper(
        Counting(Orders(), Queues(), InMemoryEventPublisher(), clock=lambda: NOW), 0.01
    )
    periodic.start()
    assert wait_until(lambda: len(calls) >= 3)
    periodic.stop()
    settled = len(calls)
    assert not wait_until(lambda: len(calls) > settled, timeout=0.1)


def test_the_interval_must_be_positive():
    with pytest.raises(ValueError):
        PeriodicSweeper(sweeper(Orders(), Queues()), 0)


def test_an_order_changed_exactly_when_the_queue_was_created_is_not_lost():
    at_birth = replace(order(300), updated_at=iso(QUEUE_BORN))
    publisher = InMemoryEventPublisher()
    result = sweeper(Orders(at_birth), Queues(messages=5), publisher).sweep()
    assert result.republished.total == 0 and result.waiting == 1


def test_the_table_is_scanned_only_when_something_can_be_found():
    orders, queues, clock = Orders(), Queues(), Clock()
    sweep = sweeper(orders, queues, clock=clock, scan_every=600)
    assert sweep.sweep().scanned  # the first sweep always looks
    clock.now = 30
    assert not sweep.sweep().scanned and len(orders.asked) == 1  # queue attributes only
    queues.states[Route.LAMBDA] = QueueState(0, NOW)  # the payment queue was re-created
    lost = order(60, OrderStatus.PROCESSING, Route.LAMBDA)
    orders.orders.append(lost)
    result = sweep.sweep()
    assert result.scanned and result.republished[Reason.LOST] == [lost.order_id]
    clock.now = 60
    assert not sweep.sweep().scanned
    clock.now = 631
    assert sweep.sweep().scanned  # the periodic look for stale orders


def test_a_queue_that_comes_back_triggers_a_scan():
    queues, clock = Queues(), Clock()
    queues.broken.add(Route.ECS)
    orders = Orders()
    sweep = sweeper(orders, queues, clock=clock)
    assert sweep.sweep().unreachable == ["ecs"]
    clock.now = 30
    queues.broken.clear()
    assert sweep.sweep().scanned


def test_a_periodic_pass_logs_what_it_found_or_its_failure_and_nothing_when_idle(caplog):
    def broken_reconcile():
        raise RuntimeError("gateway down")

    caplog.set_level("INFO", logger="order_processor.sweeper")
    idle = PeriodicSweeper(sweeper(Orders(), Queues()), 1, reconcile_every=1)
    idle.tick()
    assert [r.getMessage() for r in caplog.records] == []
    clock = Clock()
    busy = PeriodicSweeper(
        sweeper(Orders(order(300)), Queues()),
        1,
        reconcile=broken_reconcile,
        reconcile_every=1,
        monotonic=clock,
    )
    clock.now = 5.0  # the reconcile is due
    busy.tick()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["order re-published", "sweep", "reconcile failed"]
    assert caplog.records[1].republished == 1 and caplog.records[1].stale == 1
