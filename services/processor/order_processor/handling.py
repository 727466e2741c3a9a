"""What to do with one message: decode it, pay the order, and decide the message's fate.

The decision is returned, not applied, so the worker owns every queue call and the rules
here stay testable on their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from flashsale.domain.model import DomainError, OrderStatus
from flashsale.events import InvalidEvent, decode
from flashsale.services.payments import (
    PaymentDeps,
    TransientPaymentError,
    process_payment,
)
from order_processor.queue import Message

log = logging.getLogger(__name__)


class Action(StrEnum):
    DELETE = "delete"  # the outcome is recorded: the message is done
    RETRY = "retry"  # visible again after `visibility` seconds; the DLQ takes it after N receives


class Outcome(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"  # payment declined: recorded, stock released
    TRANSIENT = "transient"  # gateway or infrastructure error: retried after a backoff
    POISON = "poison"  # cannot be processed: left for the redrive policy to dead-letter


@dataclass(frozen=True)
class Disposition:
    action: Action
    outcome: Outcome
    order_id: str | None = None
    visibility: int | None = None
    duplicate: bool = False
    charged: bool = False
    detail: str | None = None


def handle(message: Message, deps: PaymentDeps, backoff: Callable[[int], int]) -> Disposition:
    try:
        event = decode(message.body)
    except InvalidEvent as exc:
        # Visible again at once: the redrive policy dead-letters it after maxReceiveCount.
        return Disposition(Action.RETRY, Outcome.POISON, visibility=0, detail=str(exc))

    order_id = event.order_id
    retry_in = backoff(message.receive_count)
    try:
        outcome = process_payment(order_id, deps, event.terms)
    except TransientPaymentError as exc:
        return Disposition(Action.RETRY, Outcome.TRANSIENT, order_id, retry_in, detail=str(exc))
    except DomainError as exc:
        # e.g. an unknown order: permanent unless a write is still on its way, so back off.
        return Disposition(Action.RETRY, Outcome.POISON, order_id, retry_in, detail=str(exc))
    except Exception as exc:  # infrastructure trouble (throttling, network): retry later
        log.exception("payment raised unexpectedly", extra={"order_id": order_id})
        return Disposition(Action.RETRY, Outcome.TRANSIENT, order_id, retry_in, detail=repr(exc))

    if outcome.status is OrderStatus.COMPLETED:
        result = Outcome.COMPLETED
    elif outcome.status is OrderStatus.FAILED:
        result = Outcome.FAILED
    else:  # not decided yet (should not happen): never delete an undecided order's message
        return Disposition(
            Action.RETRY, Outcome.TRANSIENT, order_id, retry_in, detail=f"status {outcome.status}"
        )
    return Disposition(
        Action.DELETE,
        result,
        order_id,
        duplicate=outcome.duplicate,
        charged=outcome.charged,
    )
