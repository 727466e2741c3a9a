"""Judging a cancelled reservation batch: which orders fail on their own, which products are
merely short for the batch's total (the batch is then split). Plain Python, no I/O."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flashsale.domain.model import Order, OutOfStock, UnknownProduct


class DuplicateOrder(Exception):
    """An order with this id already exists (ids are uuid4: a caller bug)."""

    def __init__(self, order_id: str):
        super().__init__(f"order {order_id} already exists")
        self.order_id = order_id


class PriceChanged(Exception):
    """The order was priced from a stale cached price: nothing was written; re-price and retry."""

    def __init__(self, product_id: int):
        super().__init__(f"the price of product {product_id} changed")
        self.product_id = product_id


@dataclass(frozen=True)
class ProductState:
    """What a product's conditional update is checked against (price None: not checked)."""

    price: Decimal | None
    stock: int


@dataclass(frozen=True)
class BatchRejection:
    """Why a reservation batch was cancelled (nothing of it was written).

    `refused`: orders that fail on their own (order id -> DuplicateOrder, UnknownProduct,
    OutOfStock or PriceChanged). `short`: products whose stock covers each remaining order
    alone but not their total.
    """

    refused: Mapping[str, Exception] = field(default_factory=dict)
    short: frozenset[int] = frozenset()


def unit_price(order: Order, product_id: int) -> Decimal:
    """The price the order was priced at for this product (one price per product per order)."""
    prices = {item.unit_price for item in order.items if item.product_id == product_id}
    if len(prices) != 1:
        raise ValueError(f"order {order.order_id}: product {product_id} priced {sorted(prices)}")
    return prices.pop()


def refusal(order: Order, rejection: BatchRejection | None) -> Exception | None:
    """A lone order's own error from its batch's rejection (a lone order is never merely
    short: its quantity fits the stock or it is refused)."""
    if rejection is None:
        return None
    return rejection.refused.get(order.order_id) or RuntimeError(
        f"order {order.order_id}: batch rejected for no reason of its own"
    )


def judge_batch(
    orders: Sequence[Order],
    products: Mapping[int, ProductState | None],
    duplicates: Collection[str] = (),
) -> BatchRejection | None:
    """Why `orders` cannot all be written, given the current state of some of their products
    (None: the product does not exist) and the order ids that already exist; None if they can.

    An order is refused only for a reason of its own (its id, a product missing or repriced, a
    quantity above the whole stock); a product that covers each order but not their sum is
    `short`, so the caller splits the batch rather than refusing anyone.
    """
    refused: dict[str, Exception] = {
        order.order_id: DuplicateOrder(order.order_id)
        for order in orders
        if order.order_id in duplicates
    }
    short = set()
    for product_id, state in sorted(products.items()):
        total = 0
        for order in orders:
            quantity = order.quantities().get(product_id)
            if quantity is None or order.order_id in refused:
                continue
            if state is None:
                refused[order.order_id] = UnknownProduct(product_id)
            elif state.price is not None and unit_price(order, product_id) != state.price:
                refused[order.order_id] = PriceChanged(product_id)
            elif quantity > state.stock:
                refused[order.order_id] = OutOfStock(product_id, quantity, state.stock)
            else:
                total += quantity
        if state is not None and total > state.stock:
            short.add(product_id)
    if not refused and not short:
        return None
    return BatchRejection(refused, frozenset(short))
