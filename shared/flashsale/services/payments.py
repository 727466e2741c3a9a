"""The one payment flow: the API (sync), the ECS processor and the payment Lambda all call it.

pending|processing -> processing (conditional, answering with the order: no read) -> charge with
the order's idempotency key -> completed | failed with its stock released (one transaction).
Three DynamoDB calls per order. Safe under at-least-once delivery: an order already
completed/failed is reported, not charged; a retry of an order left `processing` charges with
the same key, so the gateway replays the first charge instead of making a second.

An unknown outcome (the gateway's answer was lost) is never guessed: the order stays
`processing` (PaymentPending) until `reconcile_payment` asks the gateway by key.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashsale.domain.model import Charge, Order, OrderNotFound, OrderStatus, utc_now
from flashsale.ports import ChargeOutcomeUnknown, GatewayError, OrderStore, PaymentGateway

DECLINED_REASON = "payment_declined"


class TransientPaymentError(Exception):
    """The gateway failed; the order is left `processing` and the message should be retried."""

    def __init__(self, order_id: str, cause: Exception):
        super().__init__(f"payment for order {order_id} failed transiently: {cause}")
        self.order_id = order_id


class PaymentPending(TransientPaymentError):
    """The charge may exist but its outcome is unknown: the order stays `processing` (its stock
    held) until a retry with the same key or the reconciler settles it."""


@dataclass
class PaymentDeps:
    orders: OrderStore
    gateway: PaymentGateway
    #: Charge with a key derived from the order. Off only for the negative-control chaos run
    #: that shows the audit catching double charges (Settings refuses it outside local).
    idempotency_keys: bool = True


@dataclass
class PaymentOutcome:
    order_id: str
    status: OrderStatus
    charged: bool  # True when this call made a new charge at the gateway
    duplicate: bool  # True when the order had already been decided (a redelivery)
    payment_id: str | None = None
    failure_reason: str | None = None


def payment_key(order_id: str) -> str:
    """The idempotency key every consumer charges an order with."""
    return f"order-{order_id}"


def process_payment(order_id: str, deps: PaymentDeps) -> PaymentOutcome:
    """Pay for an order. Raises OrderNotFound (permanent), TransientPaymentError (retry) or
    PaymentPending (the outcome is unknown: retry or reconcile, never fail the order)."""
    order = deps.orders.move(
        order_id,
        {OrderStatus.PENDING, OrderStatus.PROCESSING},
        OrderStatus.PROCESSING,
        processing_at=utc_now(),
    )
    if order is None:  # already decided, or unknown
        return _already_decided(_reload(order_id, deps), deps)
    key = payment_key(order_id) if deps.idempotency_keys else None
    try:
        charge = deps.gateway.charge(order_id, order.total, order.customer_id, key)
    except GatewayError as exc:
        raise TransientPaymentError(order_id, exc) from exc
    except ChargeOutcomeUnknown as exc:
        raise PaymentPending(order_id, exc) from exc
    return _record(order, charge, deps)


def reconcile_payment(
    order_id: str, deps: PaymentDeps, charge_if_absent: bool = True
) -> PaymentOutcome | None:
    """Settle an undecided order from the gateway's own answer: the charge made with its key is
    recorded as it is. When there is none (the request never reached the gateway), the order is
    paid again with the same key if `charge_if_absent`, else left alone (None). Raises like
    process_payment."""
    order = _reload(order_id, deps)
    if order.is_terminal:
        return _already_decided(order, deps)
    charge = None
    if order.status is OrderStatus.PROCESSING and deps.idempotency_keys:
        try:
            charge = deps.gateway.lookup(order_id, payment_key(order_id))
        except GatewayError as exc:
            raise TransientPaymentError(order_id, exc) from exc
    if charge is not None:
        return _record(order, charge, deps)
    return process_payment(order_id, deps) if charge_if_absent else None


def _record(order: Order, charge: Charge, deps: PaymentDeps) -> PaymentOutcome:
    order_id = order.order_id
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
        done = deps.orders.fail_and_release(
            order,
            {OrderStatus.PROCESSING},
            failed_at=utc_now(),
            failure_reason=DECLINED_REASON,
            payment_id=charge.payment_id,
        )
        status, reason = OrderStatus.FAILED, DECLINED_REASON
    if not done:
        outcome = _already_decided(_reload(order_id, deps), deps)
        outcome.charged = not charge.replayed
        return outcome
    return PaymentOutcome(
        order_id=order_id,
        status=status,
        charged=not charge.replayed,
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
