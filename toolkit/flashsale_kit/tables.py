"""Reads of the stack's tables and dead-letter queues, strongly consistent: orders, stock, the
gateway's charge ledger, and fresh products a run can call its own."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flashsale.adapters.dynamodb import DynamoDbPaymentLedger, DynamoDbProductStore
from flashsale.adapters.dynamodb.ledger import KEY_SORT, charge_entry
from flashsale.domain.model import Product
from flashsale.events import InvalidEvent, decode
from flashsale_kit.running import RunningStack

TERMINAL = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    status: str
    stock_released: bool
    quantities: Mapping[int, int]
    payment_id: str | None = None
    updated_at: str = ""


@dataclass(frozen=True)
class ChargeRow:
    order_id: str
    charge_id: str
    status: str


def order_row(item: Mapping[str, Any]) -> OrderRow:
    """An orders-table item (low-level attribute values) as the audit reads it."""
    quantities: dict[int, int] = {}
    for entry in item.get("items", {}).get("L", []):
        fields = entry["M"]
        pid = int(fields["product_id"]["N"])
        quantities[pid] = quantities.get(pid, 0) + int(fields["quantity"]["N"])
    return OrderRow(
        order_id=item["order_id"]["S"],
        status=item.get("status", {}).get("S", ""),
        stock_released=bool(item.get("stock_released", {}).get("BOOL", False)),
        quantities=quantities,
        payment_id=item.get("payment_id", {}).get("S"),
        updated_at=item.get("updated_at", {}).get("S", ""),
    )


class Tables:
    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.settings = stack.settings

    @property
    def ddb(self) -> Any:
        return self.stack.client("dynamodb")

    # -- orders ------------------------------------------------------------------------------

    def orders(self, order_ids: Iterable[str]) -> dict[str, OrderRow]:
        """The orders found among `order_ids` (BatchGetItem by 100)."""
        ids = _ids(order_ids)
        found: dict[str, OrderRow] = {}
        table = self.settings.orders_table
        for start in range(0, len(ids), 100):
            request: dict[str, Any] = {
                table: {
                    "Keys": [{"order_id": {"S": oid}} for oid in ids[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = self.ddb.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(table, []):
                    row = order_row(item)
                    found[row.order_id] = row
                request = answer.get("UnprocessedKeys") or {}
        return found

    def statuses(self, order_ids: Iterable[str]) -> dict[str, str | None]:
        """order_id -> status (None if not found)."""
        ids = _ids(order_ids)
        rows = self.orders(ids)
        return {oid: rows[oid].status if oid in rows else None for oid in ids}

    def all_orders(self) -> dict[str, OrderRow]:
        rows = (order_row(item) for item in self.scan(self.settings.orders_table))
        return {row.order_id: row for row in rows}

    def orders_touching(self, product_ids: Iterable[int], since: str) -> dict[str, OrderRow]:
        """Every order created since `since` (ISO) that holds one of `product_ids`."""
        wanted = set(product_ids)
        items = self.scan(
            self.settings.orders_table,
            FilterExpression="created_at >= :since",
            ExpressionAttributeValues={":since": {"S": since}},
        )
        rows = (order_row(item) for item in items)
        return {row.order_id: row for row in rows if wanted & set(row.quantities)}

    # -- products ----------------------------------------------------------------------------

    def stock(self, product_ids: Iterable[int]) -> dict[int, int]:
        stock = {}
        for pid in product_ids:
            item = self.ddb.get_item(
                TableName=self.settings.products_table,
                Key={"product_id": {"N": str(pid)}},
                ConsistentRead=True,
            ).get("Item", {})
            stock[pid] = int(item.get("stock", {}).get("N", 0))
        return stock

    def products(self) -> dict[int, tuple[int, int | None]]:
        """product id -> (stock now, initial stock or None when it was never recorded)."""
        found = {}
        for item in self.scan(self.settings.products_table):
            initial = item.get("initial_stock", {}).get("N")
            found[int(item["product_id"]["N"])] = (
                int(item.get("stock", {}).get("N", 0)),
                int(initial) if initial is not None else None,
            )
        return found

    def new_products(
        self, label: str, stocks: Iterable[int], id_base: int, price: str = "5.00"
    ) -> dict[int, int]:
        """Fresh products (ids `id_base` + random) nobody else orders, so their stock is the
        caller's: id -> stock."""
        store = DynamoDbProductStore(self.ddb, self.settings.products_table)
        created: dict[int, int] = {}
        for stock in stocks:
            product_id = id_base + random.randrange(10**8)
            name = f"{label} {product_id}"
            store.put(Product(product_id, name, Decimal(price), stock, label, f"stock of {name}"))
            created[product_id] = stock
        return created

    # -- the gateway's ledger ----------------------------------------------------------------

    def charges(self, order_ids: Iterable[str], workers: int = 8) -> dict[str, list[ChargeRow]]:
        """Each order's charges, oldest first (one Query per order)."""
        ledger = DynamoDbPaymentLedger(self.ddb, self.settings.payments_table)

        def of(order_id: str) -> list[ChargeRow]:
            return [ChargeRow(e.order_id, e.charge_id, e.status) for e in ledger.charges(order_id)]

        ids = _ids(order_ids)
        with ThreadPoolExecutor(workers) as pool:
            return dict(zip(ids, pool.map(of, ids), strict=True))

    def ledger(self) -> dict[str, list[ChargeRow]]:
        """Every charge in the ledger, per order (a scan; idempotency-key items left out)."""
        found: dict[str, list[ChargeRow]] = {}
        for item in self.scan(
            self.settings.payments_table,
            FilterExpression="charge_id <> :key",
            ExpressionAttributeValues={":key": {"S": KEY_SORT}},
        ):
            entry = charge_entry(item)
            found.setdefault(entry.order_id, []).append(
                ChargeRow(entry.order_id, entry.charge_id, entry.status)
            )
        return found

    # -- dead-letter queues ------------------------------------------------------------------

    def dead_letters(self) -> dict[str, str]:
        """order_id -> DLQ name, for every OrderPlaced sitting in a DLQ (peeked, not taken)."""
        env = self.settings.env_name
        found: dict[str, str] = {}
        for name in (f"{env}-order-dlq", f"{env}-payment-dlq"):
            url = self.stack.queue_url(name)
            if url is not None:
                for order_id in self.peek(url):
                    found[order_id] = name
        return found

    def peek(self, url: str, limit: int = 2000) -> list[str]:
        """Order ids of a queue's visible messages; each is made visible again right after."""
        sqs = self.stack.client("sqs")
        seen: list[str] = []
        handles: list[str] = []
        try:
            while len(handles) < limit:
                batch = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
                ).get("Messages", [])
                if not batch:
                    break
                for message in batch:
                    handles.append(message["ReceiptHandle"])
                    order_id = _order_id(message.get("Body", ""))
                    if order_id:
                        seen.append(order_id)
        finally:
            for start in range(0, len(handles), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + 10])
                ]
                sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        return seen

    def count(self, table: str) -> int:
        """How many items `table` holds (a counting scan)."""
        pages = self.ddb.get_paginator("scan").paginate(
            TableName=table, Select="COUNT", ConsistentRead=True
        )
        return sum(page["Count"] for page in pages)

    def scan(self, table: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
        """Every item of `table` the scan's `kwargs` (filter, projection) let through."""
        pages = self.ddb.get_paginator("scan").paginate(
            TableName=table, ConsistentRead=True, PaginationConfig={"PageSize": 500}, **kwargs
        )
        for page in pages:
            yield from page.get("Items", [])


def _ids(order_ids: Iterable[str]) -> list[str]:
    """Order ids once each, in order; a lone id (a str) is a mistake, not its characters."""
    if isinstance(order_ids, str):
        raise TypeError(f"order ids expected, got one id: {order_ids!r}")
    return list(dict.fromkeys(order_ids))


def _order_id(body: str) -> str | None:
    try:
        return decode(body).order_id
    except InvalidEvent:
        try:  # a well-formed envelope with a bad field still names its order
            data = json.loads(body).get("data", {})
            return data.get("order_id") if isinstance(data.get("order_id"), str) else None
        except (ValueError, AttributeError):
            return None
