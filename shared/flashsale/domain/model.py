"""Orders, products and the order state machine: plain Python, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Route(StrEnum):
    """How an order is paid: inline in the API, by the ECS processor, or by the Lambda."""

    SYNC = "sync"
    ECS = "ecs"
    LAMBDA = "lambda"


TERMINAL_STATUSES: frozenset[OrderStatus] = frozenset({OrderStatus.COMPLETED, OrderStatus.FAILED})
#: what a payment may start from (a claim moves the order to processing)
UNDECIDED_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.PENDING, OrderStatus.PROCESSING}
)

#: processing -> processing lets a redelivered message resume an order whose worker crashed.
ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PROCESSING, OrderStatus.FAILED}),
    OrderStatus.PROCESSING: frozenset(
        {OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.FAILED}
    ),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.FAILED: frozenset(),
}

#: The timestamp field an order gets when it enters a status.
STATUS_TIMESTAMP_FIELD: dict[OrderStatus, str] = {
    OrderStatus.PENDING: "created_at",
    OrderStatus.PROCESSING: "processing_at",
    OrderStatus.COMPLETED: "completed_at",
    OrderStatus.FAILED: "failed_at",
}


def can_transition(current: OrderStatus, to: OrderStatus) -> bool:
    return to in ALLOWED_TRANSITIONS[current]


def check_transition(allowed_from: set[OrderStatus] | frozenset[OrderStatus], to: OrderStatus):
    """Raise InvalidTransition unless every source status may move to `to`."""
    if not allowed_from:
        raise InvalidTransition(f"no source status given for a move to {to}")
    for current in allowed_from:
        if not can_transition(OrderStatus(current), OrderStatus(to)):
            raise InvalidTransition(f"{current} -> {to} is not an allowed transition")


#: Order fields a status transition may set besides status/updated_at.
TRANSITION_FIELDS = frozenset(
    {"processing_at", "completed_at", "failed_at", "failure_reason", "payment_id"}
)


def check_transition_fields(fields: dict[str, object]) -> None:
    unknown = set(fields) - TRANSITION_FIELDS
    if unknown:
        raise ValueError(f"a transition cannot set {sorted(unknown)}")


def utc_now() -> str:
    """ISO-8601 UTC timestamp with milliseconds, e.g. 2026-01-31T12:00:00.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(value: str) -> datetime:
    """A timestamp as `utc_now` writes it, back as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class DomainError(Exception):
    """A business rule refused the request; retrying will not help."""


class UnknownProduct(DomainError):
    def __init__(self, product_id: int):
        super().__init__(f"unknown product {product_id}")
        self.product_id = product_id


class OutOfStock(DomainError):
    def __init__(self, product_id: int, requested: int, available: int | None = None):
        detail = "" if available is None else f", {available} available"
        super().__init__(f"product {product_id}: {requested} requested{detail}")
        self.product_id = product_id
        self.requested = requested
        self.available = available


class OrderNotFound(DomainError):
    def __init__(self, order_id: str):
        super().__init__(f"unknown order {order_id}")
        self.order_id = order_id


class OrderMismatch(DomainError):
    """A payment request's terms (customer, total) differ from the stored order's: never charged."""

    def __init__(self, order_id: str, detail: str):
        super().__init__(f"order {order_id}: {detail}")
        self.order_id = order_id


class InvalidTransition(DomainError):
    """A caller asked for a status change the state machine forbids (a programming error)."""


@dataclass(frozen=True)
class OrderLine:
    """A product and a quantity, not priced yet (what a client asks for)."""

    product_id: int
    quantity: int


@dataclass(frozen=True)
class OrderItem(OrderLine):
    unit_price: Decimal

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity


def total_quantities(lines: Iterable[OrderLine]) -> dict[int, int]:
    """Total quantity per product (a product may be listed twice)."""
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return totals


@dataclass
class Order:
    order_id: str
    customer_id: int
    items: list[OrderItem]
    total: Decimal
    status: OrderStatus
    route: Route
    created_at: str
    updated_at: str
    processing_at: str | None = None
    completed_at: str | None = None
    failed_at: str | None = None
    failure_reason: str | None = None
    payment_id: str | None = None
    stock_released: bool = False

    @classmethod
    def new(cls, customer_id: int, items: list[OrderItem], route: Route | str) -> Order:
        if not items:
            raise ValueError("an order needs at least one item")
        now = utc_now()
        return cls(
            order_id=str(uuid.uuid4()),
            customer_id=customer_id,
            items=list(items),
            total=sum((item.subtotal for item in items), Decimal("0")),
            status=OrderStatus.PENDING,
            route=Route(route),
            created_at=now,
            updated_at=now,
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def quantities(self) -> dict[int, int]:
        return total_quantities(self.items)

    @property
    def terms(self) -> PaymentTerms:
        return PaymentTerms(self.customer_id, self.total)


@dataclass(frozen=True)
class PaymentTerms:
    """Who pays how much for an order, as its OrderPlaced event says: a consumer charges these
    once the stored order has been claimed on the condition that they are its own."""

    customer_id: int
    total: Decimal

    def mismatch(self, order: Order) -> str | None:
        """How the stored `order` differs from these terms (None: it does not)."""
        if order.customer_id != self.customer_id:
            return f"customer {self.customer_id} asked, {order.customer_id} stored"
        if order.total != self.total:
            return f"total {self.total} asked, {order.total} stored"
        return None


@dataclass
class Product:
    product_id: int
    name: str
    price: Decimal
    stock: int
    category: str | None = None
    description: str | None = None

    def matches(self, query: str) -> bool:
        """Case-insensitive substring match on name, category and description."""
        needle = query.casefold()
        return any(
            needle in text.casefold()
            for text in (self.name, self.category or "", self.description or "")
        )


class ChargeStatus(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    #: an approved charge whose money was given back (it no longer counts as a payment)
    REFUNDED = "refunded"


@dataclass(frozen=True)
class Charge:
    """A payment gateway's answer. `replayed` is True when it repeats an earlier charge's result."""

    status: ChargeStatus
    payment_id: str
    replayed: bool = False

    @property
    def approved(self) -> bool:
        return self.status is ChargeStatus.APPROVED
