"""The interfaces the service layer and the entrypoints depend on; adapters implement them.

Real adapters: flashsale.adapters.dynamodb and .sns; in-memory fakes (test support, not shipped):
flashsale_testing.memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from flashsale.domain.model import Charge, Order, OrderStatus, PaymentTerms, Product
from flashsale.domain.reservation import BatchRejection
from flashsale.events import OrderPlaced


class PublishError(Exception):
    """The event could not be published; the caller should not report the order as accepted."""


class StoreBusy(Exception):
    """The store kept refusing a write because of contention (e.g. DynamoDB TransactionConflict):
    nothing was written; the caller may retry or answer 503."""


class GatewayError(Exception):
    """The payment gateway refused the request transiently (5xx before it acted): nothing was
    charged, retry later."""


class ChargeOutcomeUnknown(Exception):
    """The charge request may have reached the gateway but its answer was lost (timeout, a
    ledger write that may or may not have happened): the order may be charged. Never treat it
    as "not charged": ask the gateway by idempotency key, or retry with the same key."""

    def __init__(self, order_id: str, cause: object):
        super().__init__(f"outcome of the charge for order {order_id} is unknown: {cause}")
        self.order_id = order_id


class IdempotencyConflict(Exception):
    """An Idempotency-Key is in flight, or was used before with another request body."""

    IN_FLIGHT = "in_flight"
    MISMATCH = "mismatch"

    def __init__(self, key: str, reason: str):
        super().__init__(f"idempotency key {key!r}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class StoredResponse:
    """The response recorded for a completed Idempotency-Key, replayed to retries."""

    status_code: int
    body: Any


@dataclass(frozen=True)
class LedgerEntry:
    """One charge at the gateway, with the order it is for and the key it was requested with."""

    order_id: str
    charge_id: str
    status: str
    amount: Decimal
    customer_id: int
    created_at: str
    idempotency_key: str | None = None


class OrderStore(Protocol):
    def place(self, order: Order) -> None:
        """Atomically reserve stock for every item and write the order.

        Raises UnknownProduct / OutOfStock; nothing is written on failure.
        """

    def get(self, order_id: str) -> Order | None: ...

    def transition(
        self,
        order_id: str,
        allowed_from: set[OrderStatus],
        to: OrderStatus,
        **fields: Any,
    ) -> bool:
        """Conditionally move an order to `to` (setting `fields` and updated_at).

        False when the order is missing or not in `allowed_from`.
        """

    def move(
        self,
        order_id: str,
        allowed_from: set[OrderStatus],
        to: OrderStatus,
        **fields: Any,
    ) -> Order | None:
        """`transition`, answering with the order as written (None when not allowed)."""

    def claim(self, order_id: str, terms: PaymentTerms, **fields: Any) -> bool:
        """Move an undecided order to `processing` (setting `fields`), only while its customer
        and total are `terms` (what its event said): the consumer then charges `terms` without
        reading the order. False when the order is missing, decided, or not on those terms."""

    def fail_and_release(
        self, order: Order | str, allowed_from: set[OrderStatus], **fields: Any
    ) -> bool:
        """Move the order (an Order, or its id: the store reads it) to `failed` and give its
        stock back, atomically; False when the move is not allowed or the stock was already
        given back. Passing the Order saves a read of its items."""

    def release_stock(self, order_id: str) -> bool:
        """Give the order's reserved stock back; True only the first time."""


class ReservationStore(Protocol):
    """One atomic write placing a batch of orders and reserving their stock together."""

    max_actions: int
    max_bytes: int

    def reserve(self, orders: Sequence[Order]) -> BatchRejection | None:
        """Write every order and take each product's total quantity, all or nothing.

        Each product is conditional on enough stock and on the orders' unit price being its
        current price (one price per product in a batch). None when written, else why not.
        """

    def size(self, order: Order) -> int:
        """Bytes the order adds to a batch request (to respect `max_bytes`)."""


class ProductStore(Protocol):
    def get(self, product_id: int) -> Product | None: ...

    def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]: ...

    def list(self, limit: int = 100, after: int | None = None) -> list[Product]:
        """Products ordered by id, starting after `after`."""

    def search(self, query: str, limit: int = 20) -> tuple[list[Product], int]:
        """Up to `limit` matches and the total number of matches."""

    def put(self, product: Product) -> None: ...

    def update(self, product_id: int, **fields: Any) -> Product | None:
        """Update some fields; None when the product does not exist."""

    def seed(self, products: Iterable[Product]) -> int:
        """Write many products (overwriting); returns how many."""

    def prices(self, product_ids: Iterable[int]) -> dict[int, Decimal]:
        """Prices from a per-process cache (read on a miss); unknown products are left out."""

    def forget_prices(self, product_ids: Iterable[int]) -> None:
        """Drop cached prices, so the next `prices` reads them (a write found them stale)."""

    def warm_prices(self) -> None:
        """Load every price into the cache now (at start: the first orders need not wait)."""


class EventPublisher(Protocol):
    def publish(self, event: OrderPlaced) -> str:
        """Publish and return the message id; raises PublishError."""


class PaymentGateway(Protocol):
    def charge(
        self, order_id: str, amount: Decimal, customer_id: int, idempotency_key: str | None = None
    ) -> Charge:
        """Charge `amount` for the order: a new charge each call, except that a repeat of
        `idempotency_key` within the retention window returns the first result (`replayed`).

        Raises GatewayError (nothing charged) or ChargeOutcomeUnknown (maybe charged)."""

    def lookup(self, order_id: str, idempotency_key: str) -> Charge | None:
        """The charge made for the order with this key, or None when there is none (the
        request never reached the gateway). Raises GatewayError when the gateway cannot say."""


class PaymentLedger(Protocol):
    """Where the simulated gateway records every charge (one entry per charge)."""

    def record(self, entry: LedgerEntry, key_expires_at: float | None = None) -> LedgerEntry:
        """Record a charge. With `entry.idempotency_key`, atomically with the key, unless the
        key already names a charge that has not expired (epoch seconds): then nothing is
        written and that first charge is returned. Returns the entry the key names."""

    def by_key(self, idempotency_key: str, now: float) -> LedgerEntry | None:
        """The unexpired charge recorded with this key."""

    def charges(self, order_id: str) -> list[LedgerEntry]:
        """Every charge of the order, oldest first."""

    def refund(self, order_id: str, charge_id: str) -> bool:
        """Mark an approved charge refunded; False when it is not an approved charge."""


class IdempotencyStore(Protocol):
    def begin(self, key: str, fingerprint: str) -> StoredResponse | None:
        """Claim `key`: None means go ahead; a StoredResponse means replay it.

        Raises IdempotencyConflict when the key is in flight or was used with another body.
        """

    def complete(self, key: str, status_code: int, body: Any) -> None: ...

    def abandon(self, key: str) -> None:
        """Release a claimed key without a response (the request failed; a retry may run)."""
