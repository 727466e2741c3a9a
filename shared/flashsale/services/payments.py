"""The one payment flow: the API (sync), the ECS processor and the payment Lambda all call it.

pending|processing -> processing (a conditional claim) -> charge with the order's idempotency
key -> completed | failed with its stock released (one transaction). A consumer holding the
order's event claims on the condition that the stored customer and total are the event's and
charges those: no read, and the claim shares a transaction with concurrent ones. Without the
event, the claim answers with the order instead (one UpdateItem). Safe under at-least-once
delivery: an order already completed/failed is reported, not charged; a retry of an order left
`processing` charges with the same key, so the gateway replays the first charge instead of
making a second; an event whose terms are not the order's charges nothing (OrderMismatch).

An unknown outcome (the gateway's answer was lost) is never guessed: the order stays
`processing` (PaymentPending) until `reconcile_payment` asks the gateway by key.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashsale.domain.model import (
    UNDECIDED_STATUSES,
    Charge,
    Order,
    OrderMismatch,
    OrderNotFound,
    OrderStatus,
    PaymentTerms,
    utc_now,
)
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


def process_payment(
    order_id: str, deps: PaymentDeps, terms: PaymentTerms | None = None
) -> PaymentOutcome:
    """Pay for an order. Raises OrderNotFound (permanent), OrderMismatch (the terms are not the
    order's: permanent, nothing charged), TransientPaymentError (retry) or PaymentPending (the
    outcome is unknown: retry or reconcile, never fail the order).

    With `terms` (what the order's event says), the order is claimed on the condition that they
    are its own and charged without being read: the claim needs no answer, so it shares a
    transaction with concurrent ones. Without, the claim answers with the order."""
    order: Order | str = order_id
    if terms is None:
        moved = deps.orders.move(
            order_id, set(UNDECIDED_STATUSES), OrderStatus.PROCESSING, processing_at=utc_now()
        )
        if moved is None:  # already decided, or unknown
            return _already_decided(_reload(order_id, deps), deps)
        order, terms = moved, moved.terms
    elif not deps.orders.claim(order_id, terms, processing_at=utc_now()):
        return _unclaimed(order_id, terms, deps)
    key = payment_key(order_id) if deps.idempotency_keys else None
    try:
        charge = deps.gateway.charge(order_id, terms.total, terms.customer_id, key)
    except GatewayError as exc:
        raise TransientPaymentError(order_id, exc) from exc
    except ChargeOutcomeUnknown as exc:
        raise PaymentPending(order_id, exc) from exc
    return _record(order, charge, deps)


def _unclaimed(order_id: str, terms: PaymentTerms, deps: PaymentDeps) -> PaymentOutcome:
    """Why a claim was refused: the order is decided (a redelivery), unknown, or not what its
    event says."""
    order = _reload(order_id, deps)
    if order.is_terminal:
        return _already_decided(order, deps)
    mismatch = terms.mismatch(order)
    if mismatch is not None:
        raise OrderMismatch(order_id, mismatch)
    # undecided and as the event says: its status changed under the claim; try again later
    raise TransientPaymentError(order_id, RuntimeError(f"claim refused at status {order.status}"))


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
    return process_payment(order_id, deps, order.terms) if charge_if_absent else None


def _record(order: Order | str, charge: Charge, deps: PaymentDeps) -> PaymentOutcome:
    """Write the charge's outcome; `order` is the Order when it was read (a decline then gives
    its stock back without reading it again), else its id."""
    order_id = order if isinstance(order, str) else order.order_id
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
