"""The products table. Listing and search read a per-process snapshot of the catalog that is
refreshed every `cache_seconds` (the catalog is small and read-mostly; stock in those answers
may be that old). `get` and `get_many` always read the table."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from flashsale.adapters.dynamodb.codec import (
    error_code,
    field_updates,
    item_to_product,
    product_to_item,
    value,
)
from flashsale.adapters.price_cache import CachedPrices, PriceCache
from flashsale.domain.model import Product
from flashsale.ports import StoreBusy

UPDATABLE_FIELDS = frozenset({"name", "price", "stock", "category", "description"})
#: A stock update retries while concurrent orders keep moving the stock it read.
STOCK_UPDATE_ATTEMPTS = 20
BATCH_GET_SIZE = 100
BATCH_WRITE_SIZE = 25


class DynamoDbProductStore(CachedPrices):
    def __init__(
        self,
        client: Any,
        table: str,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self.table = table
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: list[Product] | None = None
        self._snapshot_at = 0.0
        self._invalidated_at = float("-inf")
        self._refreshing = False
        self._prices = PriceCache(self.get_many, self._catalog)

    def get(self, product_id: int) -> Product | None:
        response = self._client.get_item(
            TableName=self.table, Key={"product_id": value(product_id)}, ConsistentRead=True
        )
        item = response.get("Item")
        return item_to_product(item) if item else None

    def get_many(self, product_ids: Iterable[int]) -> dict[int, Product]:
        ids = sorted(set(product_ids))
        found: dict[int, Product] = {}
        for start in range(0, len(ids), BATCH_GET_SIZE):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {"product_id": value(pid)} for pid in ids[start : start + BATCH_GET_SIZE]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    product = item_to_product(item)
                    found[product.product_id] = product
                request = response.get("UnprocessedKeys") or {}
        return found

    def list(self, limit: int = 100, after: int | None = None) -> list[Product]:
        catalog = self._catalog()
        return [p for p in catalog if after is None or p.product_id > after][:limit]

    def search(self, query: str, limit: int = 20) -> tuple[list[Product], int]:
        found = [p for p in self._catalog() if p.matches(query)]
        return found[:limit], len(found)

    def put(self, product: Product) -> None:
        self._client.put_item(TableName=self.table, Item=product_to_item(product))
        self.invalidate([product.product_id])

    def update(self, product_id: int, **fields: Any) -> Product | None:
        """Update some fields. Setting `stock` moves the recorded `initial_stock` by the same
        amount (read, then a write conditional on the stock read: retried while orders move it),
        so the audit's baseline follows restocks."""
        unknown = set(fields) - UPDATABLE_FIELDS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if not fields:
            return self.get(product_id)
        for _ in range(STOCK_UPDATE_ATTEMPTS):
            names, values, sets, removes = field_updates(fields)
            condition = "attribute_exists(product_id)"
            if fields.get("stock") is not None:
                current = self._stock_and_initial(product_id)
                if current is None:
                    return None
                stock, initial = current
                values[":old"] = value(stock)
                condition += " AND stock = :old"
                if initial is not None:
                    values[":delta"] = value(fields["stock"] - stock)
                    sets.append("initial_stock = initial_stock + :delta")
            try:
                response = self._client.update_item(
                    TableName=self.table,
                    Key={"product_id": value(product_id)},
                    UpdateExpression=_update_expression(sets, removes),
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ReturnValues="ALL_NEW",
                    **({"ExpressionAttributeValues": values} if values else {}),
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                if ":old" not in values:
                    return None  # no such product
                continue  # the stock moved between the read and the write
            self.invalidate([product_id])
            return item_to_product(response["Attributes"])
        raise StoreBusy(f"product {product_id}: stock kept changing during the update")

    def _stock_and_initial(self, product_id: int) -> tuple[int, int | None] | None:
        item = self._client.get_item(
            TableName=self.table,
            Key={"product_id": value(product_id)},
            ProjectionExpression="stock, initial_stock",
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        initial = item.get("initial_stock", {}).get("N")
        return int(item.get("stock", {}).get("N", 0)), int(initial) if initial else None

    def seed(self, products: Iterable[Product]) -> int:
        items = [product_to_item(p) for p in products]
        for start in range(0, len(items), BATCH_WRITE_SIZE):
            request: dict[str, Any] = {
                self.table: [
                    {"PutRequest": {"Item": item}}
                    for item in items[start : start + BATCH_WRITE_SIZE]
                ]
            }
            attempt = 0
            while request:
                response = self._client.batch_write_item(RequestItems=request)
                request = response.get("UnprocessedItems") or {}
                if request:
                    attempt += 1
                    time.sleep(min(1.0, 0.05 * 2**attempt))
        self.invalidate()
        return len(items)

    def invalidate(self, product_ids: Iterable[int] | None = None) -> None:
        """Drop the catalog snapshot and the cached prices of these products (all: None)."""
        self._prices.forget(product_ids)
        with self._lock:
            self._snapshot = None
            self._invalidated_at = self._clock()

    def _catalog(self) -> list[Product]:
        """The catalog snapshot. Past `cache_seconds`, the stale snapshot is still served while
        one background thread reads a new one, so no request waits for the table scan (only the
        first, or one past 3x the age when refreshing keeps failing)."""
        with self._lock:
            snapshot, age = self._snapshot, self._clock() - self._snapshot_at
            if snapshot is not None and age < self.cache_seconds:
                return snapshot
            if snapshot is not None and age < 3 * self.cache_seconds:
                if not self._refreshing:
                    self._refreshing = True
                    threading.Thread(
                        target=self._refresh_quietly, name="catalog-refresh", daemon=True
                    ).start()
                return snapshot
        return self._refresh()

    def _refresh_quietly(self) -> None:
        try:
            self._refresh()
        except Exception:  # served stale meanwhile; the next read tries again
            pass
        finally:
            with self._lock:
                self._refreshing = False

    def _refresh(self) -> list[Product]:
        products: list[Product] = []
        kwargs: dict[str, Any] = {"TableName": self.table}
        read_at = self._clock()
        while True:
            response = self._client.scan(**kwargs)
            products.extend(item_to_product(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        products.sort(key=lambda p: p.product_id)
        with self._lock:
            if read_at >= self._invalidated_at:  # a write during the scan makes it stale
                self._snapshot, self._snapshot_at = products, read_at
        return products


def _update_expression(sets: list[str], removes: list[str]) -> str:
    parts = []
    if sets:
        parts.append("SET " + ", ".join(sets))
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    return " ".join(parts)
