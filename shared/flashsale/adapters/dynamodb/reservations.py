"""Coalesced stock reservations: one TransactWriteItems for a batch of orders.

The request holds a conditional Put per order (`attribute_not_exists(order_id)`) and one Update
per distinct product taking the batch's total quantity, conditional on enough stock and on the
price the orders were priced at. A cancelled batch is judged from the cancellation reasons (the
failing products' old items, returned with ALL_OLD) by `judge_batch`.

Each order item records the write that placed it (`reservation_batch`, `reservation_batch_size`),
which is how batch sizes are measured.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from flashsale.adapters.dynamodb.codec import order_to_item, value
from flashsale.adapters.dynamodb.transact import (
    MAX_TRANSACTION_BYTES,
    MAX_TRANSACTION_ITEMS,
    OrderTables,
)
from flashsale.domain.model import Order, total_quantities
from flashsale.domain.reservation import (
    BatchRejection,
    ProductState,
    judge_batch,
    unit_price,
)
from flashsale.ports import StoreBusy

CONDITION_FAILED = "ConditionalCheckFailed"


class DynamoDbReservationStore(OrderTables):
    max_actions = MAX_TRANSACTION_ITEMS
    max_bytes = MAX_TRANSACTION_BYTES

    def size(self, order: Order) -> int:
        # the order item as sent, plus room for its product's share of the Update actions
        return len(json.dumps(order_to_item(order), default=str)) + 300 * len(order.quantities())

    def reserve(self, orders: Sequence[Order], check_prices: bool = True) -> BatchRejection | None:
        """See ReservationStore.reserve; `check_prices=False` takes the orders' prices as given."""
        prices: dict[int, Decimal] = {}
        for order in orders:
            for pid in order.quantities():
                price = unit_price(order, pid)
                if prices.setdefault(pid, price) != price:
                    raise ValueError(f"product {pid} has two prices in one batch")
        wanted = sorted(total_quantities(item for order in orders for item in order.items).items())
        if len(wanted) + len(orders) > self.max_actions:
            raise ValueError(f"a batch may hold at most {self.max_actions} actions")
        actions = [
            self._update(pid, quantity, prices[pid] if check_prices else None)
            for pid, quantity in wanted
        ]
        batch_id, batch_size = uuid.uuid4().hex, len(orders)
        actions += [self._put(order, batch_id, batch_size) for order in orders]
        reasons = self._transact(actions, token=batch_id)
        if reasons is None or self._written_before(orders, reasons[len(wanted) :], batch_id):
            return None
        failing: dict[int, ProductState | None] = {}
        for (pid, _), reason in zip(wanted, reasons, strict=False):
            if reason.get("Code") == CONDITION_FAILED:
                state = self._state(pid, reason.get("Item"))
                if state is not None and not check_prices:
                    state = ProductState(None, state.stock)
                failing[pid] = state
        duplicates = {
            order.order_id
            for order, reason in zip(orders, reasons[len(wanted) :], strict=False)
            if reason.get("Code") == CONDITION_FAILED
        }
        rejection = judge_batch(orders, failing, duplicates)
        if rejection is None:  # cancelled for no condition of ours
            codes = [reason.get("Code") for reason in reasons]
            raise StoreBusy(f"reservation transaction cancelled: {codes}")
        return rejection

    def _update(self, product_id: int, quantity: int, price: Decimal | None) -> dict[str, Any]:
        condition = "attribute_exists(product_id) AND stock >= :q"
        values = {":q": value(quantity)}
        if price is not None:
            condition += " AND price = :p"
            values[":p"] = value(price)
        return {
            "Update": {
                "TableName": self.products_table,
                "Key": {"product_id": value(product_id)},
                "UpdateExpression": "SET stock = stock - :q",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _put(self, order: Order, batch_id: str, batch_size: int) -> dict[str, Any]:
        item = order_to_item(order)
        item["reservation_batch"] = value(batch_id)
        item["reservation_batch_size"] = value(batch_size)
        return {
            "Put": {
                "TableName": self.orders_table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(order_id)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _written_before(
        self, orders: Sequence[Order], reasons: list[dict[str, Any]], batch_id: str
    ) -> bool:
        """This very request was applied by an earlier attempt whose answer was lost (a retry
        after a timeout): its orders exist with this batch's id. All or none were written."""
        for order, reason in zip(orders, reasons, strict=False):
            if reason.get("Code") != CONDITION_FAILED:
                continue
            old = reason.get("Item") or self._client.get_item(
                TableName=self.orders_table,
                Key={"order_id": value(order.order_id)},
                ProjectionExpression="reservation_batch",
                ConsistentRead=True,
            ).get("Item")
            return bool(old) and old.get("reservation_batch", {}).get("S") == batch_id
        return False

    def _state(self, product_id: int, old: dict[str, Any] | None) -> ProductState | None:
        """The product as the failed condition saw it; read when the item was not returned."""
        if old is None:
            response = self._client.get_item(
                TableName=self.products_table,
                Key={"product_id": value(product_id)},
                ProjectionExpression="price, stock",
                ConsistentRead=True,
            )
            old = response.get("Item")
            if old is None:
                return None
        return ProductState(Decimal(old["price"]["N"]), int(old.get("stock", {}).get("N", 0)))
