"""The API's service layer: plain functions over the ports, no HTTP in sight.

Orders are priced from the process's cached catalog prices (a client-sent price is ignored),
placed in one atomic step (stock reserved with the order, conditional on those prices, batched
with concurrent orders by the Reserver) and then either paid inline (sync) or published (async).
A stale cached price refreshes that product and prices the order again. Every path that fails
after the reservation gives the stock back, so no failure leaks a reservation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flashsale.domain.model import (
    Order,
    OrderItem,
    OrderLine,
    OrderStatus,
    Product,
    Route,
    UnknownProduct,
    utc_now,
)
from flashsale.domain.reservation import PriceChanged
from flashsale.events import OrderPlaced
from flashsale.ports import EventPublisher, OrderStore, ProductStore, StoreBusy
from flashsale.services.payments import (
    PaymentDeps,
    PaymentOutcome,
    PaymentPending,
    TransientPaymentError,
    process_payment,
)
from flashsale.services.reservations import Reserver

log = logging.getLogger(__name__)

SEARCH_LIMIT = 20
#: how often an order is priced again after its write found a cached price stale
PRICE_RETRIES = 3


class OrderAbandoned(Exception):
    """A step after the reservation failed: the order was failed and its stock released
    (`compensated`; False when that write failed too)."""

    what = "order {} could not go on"

    def __init__(self, order_id: str, compensated: bool) -> None:
        super().__init__(self.what.format(order_id))
        self.order_id = order_id
        self.compensated = compensated


class PublishFailed(OrderAbandoned):
    """The OrderPlaced event could not be published."""

    what = "order {} could not be published"


class PaymentUnavailable(OrderAbandoned):
    """The gateway failed transiently on a sync order."""

    what = "payment for order {} is unavailable"


@dataclass(frozen=True)
class SyncResult:
    order: Order
    outcome: PaymentOutcome

    @property
    def approved(self) -> bool:
        return self.outcome.status == OrderStatus.COMPLETED

    @property
    def pending(self) -> bool:
        """The charge's outcome is unknown: the order stays `processing` until reconciled."""
        return self.outcome.status == OrderStatus.PROCESSING


@dataclass(frozen=True)
class AsyncResult:
    order: Order
    message_id: str


def order_lines(quantities: Mapping[int, int]) -> list[OrderLine]:
    """Order lines from a product id -> quantity mapping (repeated products already merged)."""
    return [OrderLine(int(pid), int(qty)) for pid, qty in quantities.items()]


def price_lines(lines: Iterable[OrderLine], products: ProductStore) -> list[OrderItem]:
    """Cached catalog prices for each line; raises UnknownProduct for a missing one."""
    lines = list(lines)
    prices = products.prices(line.product_id for line in lines)
    items = []
    for line in lines:
        price = prices.get(line.product_id)
        if price is None:
            raise UnknownProduct(line.product_id)
        items.append(OrderItem(line.product_id, line.quantity, price))
    return items


def _place(
    customer_id: int,
    lines: Iterable[OrderLine],
    route: Route,
    reserver: Reserver,
    products: ProductStore,
) -> Order:
    """Price and place the order; a price found stale at the write is read again."""
    lines = list(lines)
    for _ in range(PRICE_RETRIES + 1):
        order = Order.new(customer_id, price_lines(lines, products), route)
        try:
            reserver.place(order)
        except PriceChanged as exc:
            products.forget_prices([exc.product_id])
            continue
        return order
    raise StoreBusy("the order's prices kept changing while it was placed")


_UNDECIDED = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING})


def _fail_and_release(
    orders: OrderStore,
    order_id: str,
    reason: str,
    allowed_from: frozenset[OrderStatus] = _UNDECIDED,
) -> bool:
    """Compensation: mark the order failed and give its stock back (one transaction). True if
    it happened."""
    try:
        failed = orders.fail_and_release(
            order_id, set(allowed_from), failed_at=utc_now(), failure_reason=reason
        )
    except Exception:
        log.exception("compensation failed for order %s", order_id)
        return False
    if not failed:
        log.error("compensation: order %s could not be moved to failed", order_id)
    return failed


def place_sync_order(
    customer_id: int,
    lines: Iterable[OrderLine],
    reserver: Reserver,
    orders: OrderStore,
    products: ProductStore,
    payment: PaymentDeps,
) -> SyncResult:
    """Place the order and pay inline (phase 1). A decline fails the order and releases stock;
    so does a gateway error (503) or an outage before the payment started. When the charge's
    outcome is unknown the order stays `processing` with its stock held (`pending`): a charge
    may exist, so only the reconciler, asking the gateway, may decide it."""
    order = _place(customer_id, lines, Route.SYNC, reserver, products)
    try:
        outcome = process_payment(order.order_id, payment, order.terms)
    except PaymentPending as exc:
        log.warning(
            "sync order %s: payment outcome unknown, left to the reconciler: %s",
            order.order_id,
            exc,
        )
        pending = PaymentOutcome(order.order_id, OrderStatus.PROCESSING, False, False)
        return SyncResult(orders.get(order.order_id) or order, pending)
    except TransientPaymentError as exc:
        # The gateway charged nothing (GatewayError's contract): failing the order is safe.
        compensated = _fail_and_release(orders, order.order_id, "payment_unavailable")
        raise PaymentUnavailable(order.order_id, compensated) from exc
    except Exception:
        # An outage before the payment started leaves the order pending: fail it and free the
        # stock. Once `processing`, a charge may exist, so the order is left for a retry.
        _fail_and_release(
            orders, order.order_id, "payment_not_started", frozenset({OrderStatus.PENDING})
        )
        raise
    return SyncResult(orders.get(order.order_id) or order, outcome)


def place_async_order(
    customer_id: int,
    lines: Iterable[OrderLine],
    route: Route,
    reserver: Reserver,
    orders: OrderStore,
    products: ProductStore,
    publisher: EventPublisher,
) -> AsyncResult:
    """Place the order `pending` and publish OrderPlaced (phases 2 and 3).

    The answer is only positive once the event is published; if publishing fails the order is
    failed and its stock released before the error propagates.
    """
    order = _place(customer_id, lines, route, reserver, products)
    try:
        message_id = publisher.publish(OrderPlaced.from_order(order))
    except Exception as exc:
        log.warning("publish failed for order %s: %s", order.order_id, exc)
        compensated = _fail_and_release(orders, order.order_id, "publish_failed")
        raise PublishFailed(order.order_id, compensated) from exc
    return AsyncResult(order, message_id)


def get_order(order_id: str, orders: OrderStore) -> Order | None:
    return orders.get(order_id)


def get_product(product_id: int, products: ProductStore) -> Product | None:
    return products.get(product_id)


def list_products(products: ProductStore, limit: int, after: int | None) -> list[Product]:
    return products.list(limit=limit, after=after)


@dataclass(frozen=True)
class SearchResult:
    products: list[Product]
    total_found: int
    seconds: float


def search_products(products: ProductStore, query: str) -> SearchResult:
    started = time.perf_counter()
    found, total = products.search(query, limit=SEARCH_LIMIT)
    return SearchResult(found[:SEARCH_LIMIT], total, time.perf_counter() - started)


def update_product(
    products: ProductStore, product_id: int, changes: Mapping[str, Any]
) -> Product | None:
    return products.update(product_id, **changes)
