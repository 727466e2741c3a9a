"""The orders table, with stock reservation in the products table.

`place` is one TransactWriteItems (a batch of one, see reservations.py): a conditional stock
decrement per product plus the order put (attribute_not_exists), so concurrent buyers can never
oversell and nothing is half-written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from flashsale.adapters.dynamodb.codec import (
    error_code,
    item_to_order,
    value,
)
from flashsale.adapters.dynamodb.reservations import DynamoDbReservationStore
from flashsale.adapters.dynamodb.transact import MAX_TRANSACTION_ITEMS, transact
from flashsale.domain.model import (
    Order,
    OrderStatus,
    check_transition,
    check_transition_fields,
    utc_now,
)
from flashsale.domain.reservation import DuplicateOrder as DuplicateOrder  # re-exported
from flashsale.domain.reservation import refusal


class DynamoDbOrderStore:
    def __init__(
        self,
        client: Any,
        orders_table: str,
        products_table: str,
        conflict_retries: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._client = client
        self.orders_table = orders_table
        self.products_table = products_table
        self.conflict_retries = conflict_retries
        self._sleep = sleep
        self.reservations = DynamoDbReservationStore(
            client, orders_table, products_table, conflict_retries, sleep
        )

    def place(self, order: Order) -> None:
        """One order, its prices taken as given (the API places through `reservations`)."""
        if len(order.quantities()) + 1 > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"an order may hold at most {MAX_TRANSACTION_ITEMS - 1} products")
        error = refusal(order, self.reservations.reserve([order], check_prices=False))
        if error is not None:
            raise error

    def get(self, order_id: str) -> Order | None:
        response = self._client.get_item(
            TableName=self.orders_table, Key={"order_id": value(order_id)}, ConsistentRead=True
        )
        item = response.get("Item")
        return item_to_order(item) if item else None

    def transition(
        self, order_id: str, allowed_from: set[OrderStatus], to: OrderStatus, **fields: Any
    ) -> bool:
        check_transition(allowed_from, to)
        check_transition_fields(fields)
        names = {"#status": "status", "#updated_at": "updated_at"}
        values: dict[str, Any] = {":to": value(str(OrderStatus(to))), ":now": value(utc_now())}
        sets = ["#status = :to", "#updated_at = :now"]
        removes = []
        for index, (name, field_value) in enumerate(sorted(fields.items())):
            names[f"#f{index}"] = name
            if field_value is None:
                removes.append(f"#f{index}")
            else:
                values[f":f{index}"] = value(field_value)
                sets.append(f"#f{index} = :f{index}")
        sources = sorted(str(OrderStatus(s)) for s in allowed_from)
        for index, status in enumerate(sources):
            values[f":s{index}"] = value(status)
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            self._client.update_item(
                TableName=self.orders_table,
                Key={"order_id": value(order_id)},
                UpdateExpression=expression,
                ConditionExpression="#status IN ({})".format(
                    ", ".join(f":s{i}" for i in range(len(sources)))
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release_stock(self, order_id: str) -> bool:
        order = self.get(order_id)
        if order is None or order.stock_released:
            return False
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.orders_table,
                    "Key": {"order_id": value(order_id)},
                    "UpdateExpression": "SET stock_released = :yes, updated_at = :now",
                    "ConditionExpression": "attribute_exists(order_id) AND "
                    "(attribute_not_exists(stock_released) OR stock_released = :no)",
                    "ExpressionAttributeValues": {
                        ":yes": value(True),
                        ":no": value(False),
                        ":now": value(utc_now()),
                    },
                }
            }
        ]
        actions += [
            {
                "Update": {
                    "TableName": self.products_table,
                    "Key": {"product_id": value(pid)},
                    "UpdateExpression": "ADD stock :q",
                    "ExpressionAttributeValues": {":q": value(quantity)},
                }
            }
            for pid, quantity in sorted(order.quantities().items())
        ]
        return self._transact(actions) is None

    def _transact(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        return transact(self._client, actions, self.conflict_retries, self._sleep)
