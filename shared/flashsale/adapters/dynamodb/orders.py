"""The orders table, with stock reservation in the products table.

`place` is one TransactWriteItems (a batch of one, see reservations.py): a conditional stock
decrement per product plus the order put (attribute_not_exists), so concurrent buyers can never
oversell and nothing is half-written.
Status changes that need no answer (`transition`, `fail_and_release`) go through a group commit:
concurrent ones of different orders share a transaction, each keeping its own condition.
`undecided` finds the orders still `pending` or `processing` (the sweeper's and the reconciler's
input): the table has no index on status, so it is a paged scan filtered server-side. On AWS,
with a large table, a sparse index on undecided orders would make it cheap; the scan keeps the
local stack free of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from typing import Any

from botocore.exceptions import ClientError

from flashsale.adapters.dynamodb.codec import (
    error_code,
    field_updates,
    item_to_order,
    value,
)
from flashsale.adapters.dynamodb.group_commit import GroupCommit
from flashsale.adapters.dynamodb.reservations import DynamoDbReservationStore
from flashsale.adapters.dynamodb.transact import MAX_TRANSACTION_ITEMS, OrderTables
from flashsale.domain.model import (
    UNDECIDED_STATUSES,
    Order,
    OrderStatus,
    PaymentTerms,
    Route,
    check_transition,
    check_transition_fields,
    utc_now,
)
from flashsale.domain.reservation import DuplicateOrder as DuplicateOrder  # re-exported
from flashsale.domain.reservation import refusal

#: items a page when scanning for undecided orders
SCAN_PAGE = 500


class DynamoDbOrderStore(OrderTables):
    def __init__(self, *args: Any, **kwargs: Any):
        """The arguments of OrderTables; the reservation store shares them."""
        super().__init__(*args, **kwargs)
        #: status changes that need no answer share transactions with concurrent ones
        self._commit = GroupCommit(self._client, self._sleep)
        self.reservations = DynamoDbReservationStore(*args, **kwargs)

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

    def undecided(self, routes: Iterable[Route], page_size: int = SCAN_PAGE) -> Iterator[Order]:
        """Orders `pending` or `processing` on `routes`, scanned `page_size` items a page."""
        wanted = sorted(str(Route(r)) for r in routes)
        if not wanted:
            return
        values = {
            ":pending": value(str(OrderStatus.PENDING)),
            ":processing": value(str(OrderStatus.PROCESSING)),
            **{f":r{i}": value(route) for i, route in enumerate(wanted)},
        }
        kwargs: dict[str, Any] = {
            "TableName": self.orders_table,
            "FilterExpression": "#status IN (:pending, :processing) AND #route IN ({})".format(
                ", ".join(f":r{i}" for i in range(len(wanted)))
            ),
            "ExpressionAttributeNames": {"#status": "status", "#route": "route"},
            "ExpressionAttributeValues": values,
            "Limit": page_size,
            "ConsistentRead": True,
        }
        while True:
            page = self._client.scan(**kwargs)
            for item in page.get("Items", []):
                yield item_to_order(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def transition(
        self, order_id: str, allowed_from: set[OrderStatus], to: OrderStatus, **fields: Any
    ) -> bool:
        update = _transition_update(self.orders_table, order_id, allowed_from, to, fields)
        return self._commit.submit([{"Update": update}])

    def claim(self, order_id: str, terms: PaymentTerms, **fields: Any) -> bool:
        update = _transition_update(
            self.orders_table, order_id, UNDECIDED_STATUSES, OrderStatus.PROCESSING, fields, terms
        )
        return self._commit.submit([{"Update": update}])

    def move(
        self, order_id: str, allowed_from: set[OrderStatus], to: OrderStatus, **fields: Any
    ) -> Order | None:
        """`transition`, answering with the order as written (the same single UpdateItem)."""
        try:
            response = self._client.update_item(
                **_transition_update(self.orders_table, order_id, allowed_from, to, fields),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return item_to_order(response["Attributes"])

    def fail_and_release(
        self, order: Order | str, allowed_from: set[OrderStatus], **fields: Any
    ) -> bool:
        found = self.get(order) if isinstance(order, str) else order
        if found is None:
            return False
        update = _transition_update(
            self.orders_table,
            found.order_id,
            allowed_from,
            OrderStatus.FAILED,
            fields,
            release=True,
        )
        return self._commit.submit([{"Update": update}, *self._restock(found)])

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
                    "ConditionExpression": f"attribute_exists(order_id) AND {_NOT_RELEASED}",
                    "ExpressionAttributeValues": {
                        ":yes": value(True),
                        ":no": value(False),
                        ":now": value(utc_now()),
                    },
                }
            }
        ]
        return self._transact(actions + self._restock(order)) is None

    def _restock(self, order: Order) -> list[dict[str, Any]]:
        return [
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


_NOT_RELEASED = "(attribute_not_exists(stock_released) OR stock_released = :no)"


def _transition_update(
    table: str,
    order_id: str,
    allowed_from: Set[OrderStatus],
    to: OrderStatus,
    fields: dict[str, Any],
    terms: PaymentTerms | None = None,
    release: bool = False,
) -> dict[str, Any]:
    """The conditional UpdateItem of a status change (also a transaction's Update action);
    `terms` also requires the order's customer and total to be those; `release` also marks the
    stock given back, only if it was not already."""
    check_transition(allowed_from, to)
    check_transition_fields(fields)
    names, values, sets, removes = field_updates(fields)
    names.update({"#status": "status", "#updated_at": "updated_at"})
    values.update({":to": value(str(OrderStatus(to))), ":now": value(utc_now())})
    sets = ["#status = :to", "#updated_at = :now", *sets]
    sources = sorted(str(OrderStatus(s)) for s in allowed_from)
    for index, status in enumerate(sources):
        values[f":s{index}"] = value(status)
    condition = "#status IN ({})".format(", ".join(f":s{i}" for i in range(len(sources))))
    if terms is not None:
        names.update({"#customer": "customer_id", "#total": "total"})
        values.update({":customer": value(terms.customer_id), ":total": value(terms.total)})
        condition += " AND #customer = :customer AND #total = :total"
    if release:
        sets.append("stock_released = :yes")
        values.update({":yes": value(True), ":no": value(False)})
        condition += f" AND {_NOT_RELEASED}"
    expression = "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return {
        "TableName": table,
        "Key": {"order_id": value(order_id)},
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
