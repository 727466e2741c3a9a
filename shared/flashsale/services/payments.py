"""The one payment flow: the API (sync), the ECS processor and the payment Lambda all call it.

pending|processing -> processing (conditional) -> charge -> completed | failed (stock released).
Safe under at-least-once delivery: an order already completed/failed is reported, not charged,
and the gateway itself is idempotent on order_id.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashsale.domain.model import Charge, Order, OrderNotFound, OrderStatus, utc_now
from flashsale.ports import GatewayError, OrderStore, PaymentGateway

DECLINED_REASON = "payment_declined"


class TransientPaymentError(Exception):
    """The gateway failed; the order is left `processing` and the message should be retried."""

    def __init__(self, order_id: str, cause: Exception):
        super().__init__(f"payment for order {order_id} failed transiently: {cause}")
        self.order_id = order_id


@dataclass
class PaymentDeps:
    orders: OrderStore
    gateway: PaymentGateway


@dataclass
class PaymentOutcome:
    order_id: str
    status: OrderStatus
    charged: bool  # True when this call made a new charge at the gateway
    duplicate: bool  # True when the order had already been decided (a redelivery)
    payment_id: str | None = None
    failure_reason: str | None = None


def process_payment(order_id: str, deps: PaymentDeps) -> PaymentOutcome:
    """Pay for an order. Raises OrderNotFound (permanent) or TransientPaymentError (retry)."""
    order = deps.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    if order.is_terminal:
        return _already_decided(order, deps)

    started = deps.orders.transition(
        order_id,
        {OrderStatus.PENDING, OrderStatus.PROCESSING},
        OrderStatus.PROCESSING,
        processing_at=utc_now(),
    )
    if not started:  # decided by someone else between our read and our write
        return _already_decided(_reload(order_id, deps), deps)

    try:
        charge = deps.gateway.charge(order_id, order.total, order.customer_id)
    except GatewayError as exc:
        raise TransientPaymentError(order_id, exc) from exc
    return _record(order_id, charge, deps)


def _record(order_id: str, charge: Charge, deps: PaymentDeps) -> PaymentOutcome:
    charged = not charge.replayed
    if charge.approved:
        done = deps.orders.transition(
            order_id,
            {OrderStatus.PROCESSING},
            OrderStatus.COMPLETED,
            completed_at=utc_now(),
            payment_id=charge.payment_id,
        )
        status, reason = OrderStatus.COMPLETED, None
    else:
        done = deps.orders.transition(
            order_id,
            {OrderStatus.PROCESSING},
            OrderStatus.FAILED,
            failed_at=utc_now(),
            failure_reason=DECLINED_REASON,
            payment_id=charge.payment_id,
        )
        status, reason = OrderStatus.FAILED, DECLINED_REASON
    if not done:
        outcome = _already_decided(_reload(order_id, deps), deps)
        outcome.charged = charged
        return outcome
    if status is OrderStatus.FAILED:
        deps.orders.release_stock(order_id)
    return PaymentOutcome(
        order_id=order_id,
        status=status,
        charged=charged,
        duplicate=False,
        payment_id=charge.payment_id,
        failure_reason=reason,
    )


def _reload(order_id: str, deps: PaymentDeps) -> Order:
    order = deps.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def _already_decided(order: Order, deps: PaymentDeps) -> PaymentOutcome:
    # A crash between "failed" and the stock release is repaired by the redelivery.
    if order.status is OrderStatus.FAILED and not order.stock_released:
        deps.orders.release_stock(order.order_id)
    return PaymentOutcome(
        order_id=order.order_id,
        status=order.status,
        charged=False,
        duplicate=True,
        payment_id=order.payment_id,
        failure_reason=order.failure_reason,
    )
