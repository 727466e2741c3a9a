import random
from decimal import Decimal

import pytest

from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
from flashsale.domain.model import (
    Charge,
    ChargeStatus,
    Order,
    OrderItem,
    OrderMismatch,
    OrderNotFound,
    OrderStatus,
    PaymentTerms,
    Route,
)
from flashsale.ports import GatewayError
from flashsale.services.payments import (
    DECLINED_REASON,
    PaymentDeps,
    PaymentPending,
    TransientPaymentError,
    payment_key,
    process_payment,
    reconcile_payment,
)
from flashsale_testing.memory import InMemoryOrderStore


def deps_for(orders, ledger, keys: bool = True, **gateway_kwargs) -> PaymentDeps:
    gateway = SimulatedPaymentGateway(ledger, latency=0, rng=random.Random(3), **gateway_kwargs)
    return PaymentDeps(orders=orders, gateway=gateway, idempotency_keys=keys)


def placed(orders: InMemoryOrderStore, quantity: int = 2) -> Order:
    order = Order.new(1, [OrderItem(1, quantity, Decimal("19.99"))], Route.ECS)
    orders.place(order)
    return order


def test_approved_payment_completes_the_order(orders, ledger):
    order = placed(orders)
    outcome = process_payment(order.order_id, deps_for(orders, ledger))
    assert outcome.status is OrderStatus.COMPLETED
    assert outcome.charged and not outcome.duplicate
    stored = orders.get(order.order_id)
    assert stored.status is OrderStatus.COMPLETED
    assert stored.processing_at and stored.completed_at
    assert stored.payment_id == outcome.payment_id
    assert orders.products.get(1).stock == 8


def test_redelivery_does_not_charge_again(orders, ledger):
    order = placed(orders)
    deps = deps_for(orders, ledger)
    process_payment(order.order_id, deps)
    again = process_payment(order.order_id, deps)
    assert again.duplicate and not again.charged
    assert again.status is OrderStatus.COMPLETED
    assert len(ledger.charges(order.order_id)) == 1


def test_declined_payment_fails_the_order_and_releases_stock(orders, ledger):
    order = placed(orders, quantity=3)
    assert orders.products.get(1).stock == 7
    outcome = process_payment(order.order_id, deps_for(orders, ledger, decline_rate=1.0))
    assert outcome.status is OrderStatus.FAILED
    assert outcome.failure_reason == DECLINED_REASON
    stored = orders.get(order.order_id)
    assert stored.status is OrderStatus.FAILED and stored.failed_at
    assert stored.stock_released
    assert orders.products.get(1).stock == 10
    # a redelivery neither charges nor releases twice
    process_payment(order.order_id, deps_for(orders, ledger, decline_rate=1.0))
    assert orders.products.get(1).stock == 10
    assert len(ledger.charges(order.order_id)) == 1


def test_gateway_error_leaves_order_processing_for_a_retry(orders, ledger):
    order = placed(orders)
    with pytest.raises(TransientPaymentError) as info:
        process_payment(order.order_id, deps_for(orders, ledger, error_rate=1.0))
    assert isinstance(info.value.__cause__, GatewayError)
    assert orders.get(order.order_id).status is OrderStatus.PROCESSING
    # the retry (processing -> processing) succeeds and charges once
    outcome = process_payment(order.order_id, deps_for(orders, ledger))
    assert outcome.status is OrderStatus.COMPLETED and outcome.charged
    assert len(ledger.charges(order.order_id)) == 1


def test_crash_after_charge_is_repaired_without_a_second_charge(orders, ledger):
    order = placed(orders)
    deps = deps_for(orders, ledger)
    # the first worker charged, then died before recording the outcome
    orders.transition(order.order_id, {OrderStatus.PENDING}, OrderStatus.PROCESSING)
    first = deps.gateway.charge(
        order.order_id, order.total, order.customer_id, payment_key(order.order_id)
    )
    outcome = process_payment(order.order_id, deps)
    assert outcome.status is OrderStatus.COMPLETED
    assert not outcome.charged and outcome.payment_id == first.payment_id
    assert len(ledger.charges(order.order_id)) == 1


def test_without_idempotency_keys_the_same_crash_charges_twice(orders, ledger):
    """The negative control's mode: what the key prevents really happens without it."""
    order = placed(orders)
    deps = deps_for(orders, ledger, keys=False)
    orders.transition(order.order_id, {OrderStatus.PENDING}, OrderStatus.PROCESSING)
    deps.gateway.charge(order.order_id, order.total, order.customer_id)
    assert process_payment(order.order_id, deps).charged
    assert len(ledger.charges(order.order_id)) == 2


def test_a_lost_answer_leaves_the_order_processing_with_its_stock(orders, ledger):
    order = placed(orders, quantity=3)
    with pytest.raises(PaymentPending):
        process_payment(order.order_id, deps_for(orders, ledger, lost_answer_rate=1.0))
    stored = orders.get(order.order_id)
    assert stored.status is OrderStatus.PROCESSING and not stored.stock_released
    assert orders.products.get(1).stock == 7
    [charge] = ledger.charges(order.order_id)
    # the reconciler asks the gateway by key and records the real outcome: no second charge
    outcome = reconcile_payment(order.order_id, deps_for(orders, ledger, error_rate=1.0))
    assert outcome.status is OrderStatus.COMPLETED and not outcome.charged
    assert orders.get(order.order_id).payment_id == charge.charge_id
    assert len(ledger.charges(order.order_id)) == 1


def test_a_reconciled_decline_fails_the_order_and_releases_its_stock(orders, ledger):
    order = placed(orders, quantity=3)
    lost = deps_for(orders, ledger, lost_answer_rate=1.0, decline_rate=1.0)
    with pytest.raises(PaymentPending):
        process_payment(order.order_id, lost)
    outcome = reconcile_payment(order.order_id, deps_for(orders, ledger))
    assert outcome.status is OrderStatus.FAILED and not outcome.charged
    assert orders.products.get(1).stock == 10 and orders.get(order.order_id).stock_released


def test_reconciling_a_charge_that_never_happened_charges_once_with_the_key(orders, ledger):
    order = placed(orders)
    with pytest.raises(TransientPaymentError):
        process_payment(order.order_id, deps_for(orders, ledger, error_rate=1.0))
    deps = deps_for(orders, ledger)
    outcome = reconcile_payment(order.order_id, deps)
    assert outcome.status is OrderStatus.COMPLETED and outcome.charged
    [charge] = ledger.charges(order.order_id)
    assert charge.idempotency_key == payment_key(order.order_id)
    assert reconcile_payment(order.order_id, deps).duplicate
    assert len(ledger.charges(order.order_id)) == 1


def test_an_async_order_without_a_charge_is_left_to_its_message(orders, ledger):
    order = placed(orders)
    with pytest.raises(TransientPaymentError):
        process_payment(order.order_id, deps_for(orders, ledger, error_rate=1.0))
    assert reconcile_payment(order.order_id, deps_for(orders, ledger), False) is None
    assert orders.get(order.order_id).status is OrderStatus.PROCESSING
    assert ledger.charges(order.order_id) == []


def test_crash_between_failed_and_release_is_repaired(orders, ledger):
    order = placed(orders, quantity=4)
    orders.transition(order.order_id, {OrderStatus.PENDING}, OrderStatus.FAILED)
    outcome = process_payment(order.order_id, deps_for(orders, ledger))
    assert outcome.duplicate and outcome.status is OrderStatus.FAILED
    assert orders.products.get(1).stock == 10
    assert ledger.charges(order.order_id) == []


def test_unknown_order_is_permanent(orders, ledger):
    with pytest.raises(OrderNotFound):
        process_payment("nope", deps_for(orders, ledger))


def test_status_changed_under_our_feet_is_reported_as_duplicate(orders):
    order = placed(orders)

    class RacingGateway:
        """Another worker completes the order while this one is at the gateway."""

        def charge(self, order_id, amount, customer_id, idempotency_key=None):
            orders.transition(order_id, {OrderStatus.PROCESSING}, OrderStatus.COMPLETED)
            return Charge(ChargeStatus.APPROVED, "pay_x", replayed=True)

    outcome = process_payment(order.order_id, PaymentDeps(orders, RacingGateway()))
    assert outcome.duplicate and outcome.status is OrderStatus.COMPLETED
    assert not outcome.charged


class UnreadOrders(InMemoryOrderStore):
    """Counts the reads of orders: get, and the claim that answers with the order (move)."""

    def __init__(self, products) -> None:
        super().__init__(products)
        self.reads = 0

    def get(self, order_id):
        self.reads += 1
        return super().get(order_id)

    def move(self, order_id, allowed_from, to, **fields):
        self.reads += to is OrderStatus.PROCESSING
        return super().move(order_id, allowed_from, to, **fields)


def test_with_its_events_terms_an_order_is_charged_them_without_a_read(products, ledger):
    orders = UnreadOrders(products)
    order = placed(orders)
    outcome = process_payment(order.order_id, deps_for(orders, ledger), order.terms)
    assert outcome.status is OrderStatus.COMPLETED and outcome.charged
    [charge] = ledger.charges(order.order_id)
    assert (charge.amount, charge.customer_id) == (order.total, order.customer_id)
    assert orders.reads == 0
    again = process_payment(order.order_id, deps_for(orders, ledger), order.terms)
    assert again.duplicate and not again.charged and len(ledger.charges(order.order_id)) == 1


@pytest.mark.parametrize(
    "terms",
    [
        PaymentTerms(1, Decimal("0.01")),  # a tampered total
        PaymentTerms(2, Decimal("39.98")),  # the right total, someone else's order
    ],
)
def test_an_event_whose_terms_are_not_the_orders_charges_nothing(orders, ledger, terms):
    order = placed(orders)
    assert order.total == Decimal("39.98") and order.customer_id == 1
    with pytest.raises(OrderMismatch):
        process_payment(order.order_id, deps_for(orders, ledger), terms)
    assert ledger.all() == []
    assert orders.get(order.order_id).status is OrderStatus.PENDING
    # the order's own event still pays it
    assert process_payment(order.order_id, deps_for(orders, ledger), order.terms).charged


def test_a_declined_event_order_gives_its_stock_back(orders, ledger):
    order = placed(orders, quantity=3)
    deps = deps_for(orders, ledger, decline_rate=1.0)
    outcome = process_payment(order.order_id, deps, order.terms)
    assert outcome.status is OrderStatus.FAILED and outcome.failure_reason == DECLINED_REASON
    assert orders.get(order.order_id).stock_released and orders.products.get(1).stock == 10


def test_an_unknown_orders_event_is_permanent(orders, ledger):
    with pytest.raises(OrderNotFound):
        process_payment("nope", deps_for(orders, ledger), PaymentTerms(1, Decimal("1")))
