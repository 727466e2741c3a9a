"""The reconciler settles orders left `processing` from the gateway's answer, never a guess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from flashsale.domain.model import Order, OrderItem, OrderStatus, Route
from flashsale.services.payments import PaymentPending, TransientPaymentError, process_payment
from flashsale_testing.memory import InMemoryEventPublisher
from order_processor.reconciler import ReconcileConfig, Reconciler
from order_processor.sweeper import PeriodicSweeper, Sweeper

from .conftest import World, wait_until
from .test_sweeper import Orders, Queues


def later() -> datetime:
    """Five minutes from now: every order placed by the test is past the reconcile bound."""
    return datetime.now(UTC) + timedelta(minutes=5)


class Undecided:
    def __init__(self, world: World):
        self.world = world

    def undecided(self, routes):
        return [
            o
            for o in self.world.orders.all()
            if o.route in set(routes) and o.status in {OrderStatus.PENDING, OrderStatus.PROCESSING}
        ]


def placed(world: World, route: Route) -> Order:
    order = Order.new(7, [OrderItem(1, 3, Decimal("9.99"))], route)
    world.orders.place(order)
    return order


def reconciler(world: World, **config) -> Reconciler:
    return Reconciler(Undecided(world), world.deps, ReconcileConfig(**config), clock=later)


@pytest.fixture
def lost_answers(world):
    """The gateway records the charge and its answer is lost; open it so charges go through."""
    world.held.gate.set()
    world.gateway.lost_answer_rate = 1.0
    yield world
    world.gateway.lost_answer_rate = 0.0


def test_a_lost_answer_is_settled_from_the_gateway_without_a_second_charge(lost_answers):
    world = lost_answers
    orders = [placed(world, route) for route in (Route.SYNC, Route.ECS)]
    for order in orders:
        with pytest.raises(PaymentPending):
            process_payment(order.order_id, world.deps)
    world.gateway.lost_answer_rate = 0.0
    assert reconciler(world, dry_run=True).reconcile().found == [o.order_id for o in orders]
    result = reconciler(world).reconcile()
    assert sorted(result.settled["completed"]) == sorted(o.order_id for o in orders)
    for order in orders:
        [charge] = world.ledger.charges(order.order_id)
        assert world.orders.get(order.order_id).payment_id == charge.charge_id
    assert world.products.get(1).stock == 1000 - 6


def test_recent_processing_orders_are_left_alone(lost_answers):
    world = lost_answers
    order = placed(world, Route.SYNC)
    with pytest.raises(PaymentPending):
        process_payment(order.order_id, world.deps)
    assert reconciler(world, older_than=3600).reconcile().settled.total == 0
    assert world.orders.get(order.order_id).status is OrderStatus.PROCESSING


def test_without_a_charge_a_sync_order_is_paid_again_an_async_one_left_to_its_message():
    world = World(error_rate=1.0)
    world.held.gate.set()
    sync, ecs = placed(world, Route.SYNC), placed(world, Route.ECS)
    for order in (sync, ecs):
        with pytest.raises(TransientPaymentError):
            process_payment(order.order_id, world.deps)
    world.gateway.error_rate = 0.0
    result = reconciler(world).reconcile()
    assert result.settled == {"completed": [sync.order_id]}
    assert result.left_to_message == [ecs.order_id]
    assert len(world.ledger.charges(sync.order_id)) == 1
    assert world.ledger.charges(ecs.order_id) == []


def test_an_unreachable_gateway_leaves_the_order_unresolved(lost_answers):
    world = lost_answers
    order = placed(world, Route.SYNC)
    with pytest.raises(PaymentPending):
        process_payment(order.order_id, world.deps)
    world.ledger.fail_with = ConnectionError("ledger down")
    result = reconciler(world).reconcile()
    assert result.unresolved == [order.order_id] and result.settled.total == 0
    assert world.orders.get(order.order_id).status is OrderStatus.PROCESSING


def test_the_periodic_sweeper_reconciles_at_its_own_pace():
    runs: list[int] = []

    class Result:
        def summary(self):
            runs.append(1)
            return {"settled": 0}

    sweeper = Sweeper(Orders(), Queues(), InMemoryEventPublisher())
    periodic = PeriodicSweeper(sweeper, 0.01, reconcile=Result, reconcile_every=0.05)
    periodic.start()
    assert wait_until(lambda: len(runs) >= 2)
    periodic.stop()
