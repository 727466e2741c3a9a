"""In-memory fakes of every port, thread-safe, with the same semantics as the real adapters."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from flashsale.adapters.price_cache import CachedPrices, PriceCache
from flashsale.domain.model import (
    UNDECIDED_STATUSES,
    ChargeStatus,
    Order,
    OrderStatus,
    PaymentTerms,
    Product,
    check_transition,
    check_transition_fields,
    total_quantities,
    utc_now,
)
from flashsale.domain.reservation import BatchRejection, ProductState, judge_batch, refusal
from flashsale.events import OrderPlaced, encode
from flashsale.ports import (
    IdempotencyConflict,
    LedgerEntry,
    PublishError,
    StoredResponse,
)


class InMemoryProductStore(CachedPrices):
    def __init__(self, products: Iterable[Product] = ()):
        self._lock = threading.RLock()
        self._products: dict[int, Product] = {}
        self._prices = PriceCache(self.get_many, lambda: self.list(limit=len(self._products)))
        self.seed(products)

    def get(self, product_id: int) -> Product | None:
        with self._lock:
            product = self._products.get(product_id)
            return copy.copy(product) if product else None

    def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]:
        with self._lock:
            found = set(product_ids) & self._products.keys()
            return {pid: copy.copy(self._products[pid]) for pid in found}

    def list(self, limit: int = 100, after: int | None = None) -> list[Product]:
        with self._lock:
            ids = sorted(pid for pid in self._products if after is None or pid > after)
            return [copy.copy(self._products[pid]) for pid in ids[:limit]]

    def search(self, query: str, limit: int = 20) -> tuple[list[Product], int]:
        with self._lock:
            found = [
                copy.copy(self._products[pid])
                for pid in sorted(self._products)
                if self._products[pid].matches(query)
            ]
        return found[:limit], len(found)

    def put(self, product: Product) -> None:
        with self._lock:
            self._products[product.product_id] = copy.copy(product)
        self._prices.forget([product.product_id])

    def update(self, product_id: int, **fields: Any) -> Product | None:
        with self._lock:
            product = self._products.get(product_id)
            if product is None:
                return None
            self._products[product_id] = replace(product, **fields)
            updated = copy.copy(self._products[product_id])
        self._prices.forget([product_id])
        return updated

    def seed(self, products: Iterable[Product]) -> int:
        count = 0
        for product in products:
            self.put(product)
            count += 1
        return count

    def change_price_elsewhere(self, product_id: int, price: Decimal) -> None:
        """Change a price the way another process would: this process's price cache is not
        told (tests of the stale-price path)."""
        with self._lock:
            self._products[product_id] = replace(self._products[product_id], price=price)

    # used by InMemoryOrderStore under its lock
    def _adjust_stock(self, deltas: dict[int, int]) -> None:
        with self._lock:
            for pid, delta in deltas.items():
                product = self._products[pid]
                self._products[pid] = replace(product, stock=product.stock + delta)


class InMemoryOrderStore:
    def __init__(self, products: InMemoryProductStore):
        self.products = products
        self._lock = threading.RLock()
        self._orders: dict[str, Order] = {}

    def place(self, order: Order) -> None:
        error = refusal(order, self.place_batch([order], check_prices=False))
        if error is not None:
            raise error

    def place_batch(
        self, orders: Sequence[Order], check_prices: bool = True
    ) -> BatchRejection | None:
        """All of `orders` or none, judged like a DynamoDB reservation batch."""
        products = self.products
        with self._lock, products._lock:
            totals = total_quantities(item for order in orders for item in order.items)
            states = {
                pid: ProductState(p.price if check_prices else None, p.stock) if p else None
                for pid in totals
                for p in [products._products.get(pid)]
            }
            duplicates = {o.order_id for o in orders if o.order_id in self._orders}
            rejection = judge_batch(orders, states, duplicates)
            if rejection is not None:
                return rejection
            products._adjust_stock({pid: -quantity for pid, quantity in totals.items()})
            for order in orders:
                self._orders[order.order_id] = copy.deepcopy(order)
            return None

    def get(self, order_id: str) -> Order | None:
        with self._lock:
            order = self._orders.get(order_id)
            return copy.deepcopy(order) if order else None

    def transition(
        self, order_id: str, allowed_from: set[OrderStatus], to: OrderStatus, **fields: Any
    ) -> bool:
        return self.move(order_id, allowed_from, to, **fields) is not None

    def claim(self, order_id: str, terms: PaymentTerms, **fields: Any) -> bool:
        moved = self._move(order_id, UNDECIDED_STATUSES, OrderStatus.PROCESSING, fields, terms)
        return moved is not None

    def move(
        self, order_id: str, allowed_from: set[OrderStatus], to: OrderStatus, **fields: Any
    ) -> Order | None:
        return self._move(order_id, allowed_from, to, fields)

    def _move(
        self,
        order_id: str,
        allowed_from: Set[OrderStatus],
        to: OrderStatus,
        fields: dict[str, Any],
        terms: PaymentTerms | None = None,
    ) -> Order | None:
        check_transition(allowed_from, to)
        check_transition_fields(fields)
        with self._lock:
            order = self._orders.get(order_id)
            if order is None or order.status not in allowed_from:
                return None
            if terms is not None and terms.mismatch(order) is not None:
                return None
            self._orders[order_id] = replace(
                order, status=OrderStatus(to), updated_at=utc_now(), **fields
            )
            return copy.deepcopy(self._orders[order_id])

    def fail_and_release(
        self, order: Order | str, allowed_from: set[OrderStatus], **fields: Any
    ) -> bool:
        order_id = order if isinstance(order, str) else order.order_id
        with self._lock:
            current = self._orders.get(order_id)
            if current is None or current.stock_released:
                return False
            if self.move(order_id, allowed_from, OrderStatus.FAILED, **fields) is None:
                return False
            return self.release_stock(order_id)

    def release_stock(self, order_id: str) -> bool:
        with self._lock:
            order = self._orders.get(order_id)
            if order is None or order.stock_released:
                return False
            self.products._adjust_stock(order.quantities())
            self._orders[order_id] = replace(order, stock_released=True, updated_at=utc_now())
            return True

    def all(self) -> list[Order]:
        with self._lock:
            return [copy.deepcopy(order) for order in self._orders.values()]


class InMemoryReservationStore:
    """ReservationStore over an InMemoryOrderStore, judged like the DynamoDB one; `calls` holds
    the size of every batch asked for, `written` of every batch written."""

    max_actions = 100
    max_bytes = 4 * 1024 * 1024

    def __init__(self, orders: InMemoryOrderStore):
        self.orders = orders
        self.calls: list[int] = []
        self.written: list[int] = []

    def size(self, order: Order) -> int:
        return len(repr(order))

    def reserve(self, orders: Sequence[Order]) -> BatchRejection | None:
        self.calls.append(len(orders))
        rejection = self.orders.place_batch(orders)
        if rejection is None:
            self.written.append(len(orders))
        return rejection


class InMemoryEventPublisher:
    """Records what was published; `fail_with` makes every publish raise PublishError."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[tuple[str, OrderPlaced, str, dict[str, Any]]] = []
        self.fail_with: str | None = None

    def publish(self, event: OrderPlaced) -> str:
        if self.fail_with:
            raise PublishError(self.fail_with)
        body, attributes = encode(event)
        message_id = str(uuid.uuid4())
        with self._lock:
            self.published.append((message_id, event, body, attributes))
        return message_id

    @property
    def events(self) -> list[OrderPlaced]:
        with self._lock:
            return [event for _, event, _, _ in self.published]


class InMemoryPaymentLedger:
    """Charges and idempotency keys; a keyed record is atomic like the real ledger's."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []
        self._keys: dict[str, tuple[LedgerEntry, float]] = {}
        #: Fault injection: every record and key lookup raises this; a record before writing,
        #: or after it when `fail_after_write` (a write whose answer was lost).
        self.fail_with: Exception | None = None
        self.fail_after_write = False

    def record(self, entry: LedgerEntry, key_expires_at: float | None = None) -> LedgerEntry:
        with self._lock:
            key = entry.idempotency_key
            if key is not None:
                first = self._keys.get(key)
                if first is not None and first[1] >= self._clock():
                    return first[0]
            if self.fail_with is not None and not self.fail_after_write:
                raise self.fail_with
            if key is not None:
                self._keys[key] = (entry, key_expires_at or 0.0)
            self._entries.append(entry)
            if self.fail_with is not None:
                raise self.fail_with
            return entry

    def by_key(self, idempotency_key: str, now: float) -> LedgerEntry | None:
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            found = self._keys.get(idempotency_key)
        return found[0] if found is not None and found[1] >= now else None

    def charges(self, order_id: str) -> list[LedgerEntry]:
        with self._lock:
            return sorted(
                (e for e in self._entries if e.order_id == order_id),
                key=lambda e: (e.created_at, e.charge_id),
            )

    def refund(self, order_id: str, charge_id: str) -> bool:
        with self._lock:
            for index, entry in enumerate(self._entries):
                if (entry.order_id, entry.charge_id) == (order_id, charge_id):
                    if entry.status != ChargeStatus.APPROVED:
                        return False
                    self._entries[index] = replace(entry, status=str(ChargeStatus.REFUNDED))
                    return True
        return False

    def all(self) -> list[LedgerEntry]:
        with self._lock:
            return list(self._entries)


@dataclass(eq=False)
class InMemoryIdempotencyStore:
    ttl_seconds: float = 86_400
    in_flight_seconds: float = 60
    clock: Callable[[], float] = time.time
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    #: key -> (fingerprint, response or None while in flight, expires_at)
    _records: dict[str, tuple[str, StoredResponse | None, float]] = field(
        default_factory=dict, init=False
    )

    def begin(self, key: str, fingerprint: str) -> StoredResponse | None:
        now = self.clock()
        with self._lock:
            record = self._records.get(key)
            if record is not None and record[2] > now:
                stored_fingerprint, response, _ = record
                if stored_fingerprint != fingerprint:
                    raise IdempotencyConflict(key, IdempotencyConflict.MISMATCH)
                if response is None:
                    raise IdempotencyConflict(key, IdempotencyConflict.IN_FLIGHT)
                return response
            self._records[key] = (fingerprint, None, now + self.in_flight_seconds)
            return None

    def complete(self, key: str, status_code: int, body: Any) -> None:
        with self._lock:
            fingerprint = self._records[key][0] if key in self._records else ""
            self._records[key] = (
                fingerprint,
                StoredResponse(status_code, copy.deepcopy(body)),
                self.clock() + self.ttl_seconds,
            )

    def abandon(self, key: str) -> None:
        with self._lock:
            record = self._records.get(key)
            if record is not None and record[1] is None:
                del self._records[key]
