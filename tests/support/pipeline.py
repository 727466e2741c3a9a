"""Driving the live pipeline from end-to-end tests: orders through the API, their status polled
in bulk from the orders table, charges read from the gateway's ledger and checked with the
audit's money rules, OrderPlaced re-published to the topic, and the consumers' logs read to see
that a message was handled."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from flashsale.adapters.dynamodb import DynamoDbPaymentLedger, DynamoDbProductStore
from flashsale.domain.model import OrderItem, Product, Route
from flashsale.events import OrderPlaced, encode
from flashsale.ports import LedgerEntry
from flashsale.settings import Settings
from flashsale_chaos.audit import Tables as AuditTables
from flashsale_chaos.logs import json_line
from flashsale_chaos.money import Violation, order_violations
from flashsale_chaos.stack import Stack
from localaws.config import PlatformConfig
from support.polling import eventually

ROUTE_HEADER = "X-Processing-Route"
TERMINAL = frozenset({"completed", "failed"})
#: the order's timestamps in the order a successful order gets them
TIMELINE = ("created_at", "processing_at", "completed_at")


def api_url() -> str:
    return os.environ.get("API_URL", "http://127.0.0.1:8080").rstrip("/")


def order_body(customer_id: int, product_id: int, quantity: int = 1) -> dict[str, Any]:
    return {"customer_id": customer_id, "items": [{"product_id": product_id, "quantity": quantity}]}


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Placed:
    """One POST /orders/<route>'s answer."""

    route: str
    status_code: int
    body: dict[str, Any]

    @property
    def order_id(self) -> str:
        return self.body["order_id"]


class PipelineApi:
    """The order API at API_URL, with a connection pool sized for concurrent test clients."""

    def __init__(self, url: str | None = None, pool: int = 64, admin_key: str | None = None):
        self.url = url or api_url()
        self.admin_key = admin_key or os.environ.get("ADMIN_API_KEY", "local-admin-key")
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        self.session.close()

    def healthy(self) -> bool:
        try:
            return self.session.get(f"{self.url}/ready", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def place(
        self,
        route: str,
        body: Mapping[str, Any],
        idempotency_key: str | None = None,
        timeout: float = 60.0,
    ) -> Placed:
        """POST the order to /orders/sync (route `sync`) or /orders/async with the route header."""
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        if route == "sync":
            path = "/orders/sync"
        else:
            path = "/orders/async"
            headers[ROUTE_HEADER] = route
        response = self.session.post(
            f"{self.url}{path}", json=dict(body), headers=headers, timeout=timeout
        )
        return Placed(route, response.status_code, response.json())

    def place_many(
        self, requests_: Sequence[tuple[str, Mapping[str, Any]]], workers: int = 16
    ) -> list[Placed]:
        """Place (route, body) pairs concurrently; answers in the same order."""
        with ThreadPoolExecutor(max(1, min(workers, len(requests_)))) as pool:
            return list(pool.map(lambda pair: self.place(*pair), requests_))

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.url}/orders/{order_id}", timeout=10)
        assert response.status_code == 200, f"GET /orders/{order_id}: {response.text}"
        return response.json()

    def orders(self, order_ids: Iterable[str], workers: int = 8) -> dict[str, dict[str, Any]]:
        ids = list(dict.fromkeys(order_ids))
        with ThreadPoolExecutor(workers) as pool:
            return dict(zip(ids, pool.map(self.order, ids), strict=True))

    def stock(self, product_id: int) -> int:
        response = self.session.get(f"{self.url}/products/{product_id}", timeout=10)
        assert response.status_code == 200, f"GET /products/{product_id}: {response.text}"
        return response.json()["stock"]

    def set_stock(self, product_id: int, stock: int) -> dict[str, Any]:
        """PUT /products/<id> {"stock": n} with the admin key: what a shop runs before a sale."""
        response = self.session.put(
            f"{self.url}/products/{product_id}",
            json={"stock": stock},
            headers={"X-Admin-Key": self.admin_key},
            timeout=10,
        )
        assert response.status_code == 200, f"PUT /products/{product_id}: {response.text}"
        return response.json()


class Tables:
    """Reads the pipeline's DynamoDB tables directly: bulk order status and the charge ledger."""

    def __init__(self, dynamodb: Any, settings: Settings):
        self.ddb = dynamodb
        self.orders_table = settings.orders_table
        self.payments_table = settings.payments_table
        self.products = DynamoDbProductStore(dynamodb, settings.products_table)
        self.ledger = DynamoDbPaymentLedger(dynamodb, settings.payments_table)

    def new_product(self, api: PipelineApi, stock: int, price: str = "9.99") -> int:
        """A fresh product (id 900000 + random) nobody else orders, so its stock is the test's.

        PUT /products/<id> updates existing products only: the row is written with no stock,
        then the stock is set through the admin endpoint."""
        product_id = 900_000 + random.randrange(10_000_000)
        self.products.put(
            Product(product_id, f"e2e item {product_id}", Decimal(price), 0, "e2e", "test stock")
        )
        assert api.set_stock(product_id, stock)["stock"] == stock
        return product_id

    def statuses(self, order_ids: Iterable[str]) -> dict[str, str | None]:
        """order_id -> status (None if not found), BatchGetItem by 100, strongly consistent."""
        ids = list(dict.fromkeys(order_ids))
        found: dict[str, str | None] = dict.fromkeys(ids)
        for start in range(0, len(ids), 100):
            keys = [{"order_id": {"S": oid}} for oid in ids[start : start + 100]]
            request = {
                self.orders_table: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": "order_id, #s",
                    "ExpressionAttributeNames": {"#s": "status"},
                }
            }
            while request:
                answer = self.ddb.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.orders_table, []):
                    found[item["order_id"]["S"]] = item["status"]["S"]
                request = answer.get("UnprocessedKeys") or {}
        return found

    def wait_terminal(
        self, order_ids: Iterable[str], timeout: float, interval: float = 0.5
    ) -> dict[str, str]:
        """Poll until every order is completed or failed; the final statuses."""
        ids = list(dict.fromkeys(order_ids))
        last: dict[str, str | None] = {}

        def all_done() -> dict[str, str] | None:
            last.update(self.statuses(oid for oid in ids if last.get(oid) not in TERMINAL))
            return dict(last) if all(last[oid] in TERMINAL for oid in ids) else None  # type: ignore[return-value]

        try:
            return eventually(all_done, timeout=timeout, interval=interval)
        except AssertionError:
            open_ = {oid: last.get(oid) for oid in ids if last.get(oid) not in TERMINAL}
            raise AssertionError(
                f"{len(open_)} of {len(ids)} orders not final after {timeout} s: "
                f"{dict(list(open_.items())[:5])}"
            ) from None

    def charges(self, order_id: str) -> list[LedgerEntry]:
        """The order's charges in the gateway's ledger, oldest first."""
        return self.ledger.charges(order_id)

    def charges_of(self, order_ids: Iterable[str], workers: int = 8) -> dict[str, list]:
        ids = list(dict.fromkeys(order_ids))
        with ThreadPoolExecutor(workers) as pool:
            return dict(zip(ids, pool.map(self.charges, ids), strict=True))


def money_violations(order_ids: Iterable[str]) -> list[Violation]:
    """`make audit`'s money rules over these orders: each one's charges against its status."""
    tables = AuditTables(Stack())
    ids = list(dict.fromkeys(order_ids))
    return order_violations(tables.orders(ids), tables.charges(ids))


def order_placed(order: Mapping[str, Any], route: str | None = None) -> OrderPlaced:
    """The OrderPlaced event of an order as GET /orders/<id> shows it (route overridable)."""
    return OrderPlaced(
        order_id=order["order_id"],
        customer_id=order["customer_id"],
        items=tuple(
            OrderItem(item["product_id"], item["quantity"], Decimal(str(item["unit_price"])))
            for item in order["items"]
        ),
        total=Decimal(str(order["total"])),
        route=Route(route or order["route"]),
    )


def publish(sns: Any, topic_arn: str, event: OrderPlaced) -> str:
    """Publish OrderPlaced to the topic exactly as the API does; the SNS message id."""
    body, attributes = encode(event)
    return sns.publish(TopicArn=topic_arn, Message=body, MessageAttributes=attributes)["MessageId"]


class ProcessorLog:
    """The ECS processor's JSON log (one `order processed` line per message it settles)."""

    def __init__(self, path: Path):
        self.path = path

    def mark(self) -> int:
        """A position: `handled` counts only lines written after it."""
        return self.path.stat().st_size if self.path.exists() else 0

    def handled(self, order_id: str, since: int) -> list[dict[str, Any]]:
        with self.path.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        return [
            entry
            for entry in map(json_line, lines)
            if entry and entry.get("msg") == "order processed" and entry.get("order_id") == order_id
        ]


class LambdaLog:
    """The payment Lambda's log group: Powertools JSON lines, `order processed` per record."""

    def __init__(self, logs: Any, function_name: str):
        self.logs = logs
        self.group = f"/aws/lambda/{function_name}"

    @staticmethod
    def mark() -> int:
        return int(time.time() * 1000) - 1000  # a second of slack for clock granularity

    def handled(self, order_id: str, since: int) -> list[dict[str, Any]]:
        entries = []
        kwargs: dict[str, Any] = {"logGroupName": self.group, "startTime": since}
        while True:
            page = self.logs.filter_log_events(**kwargs)
            for event in page.get("events", []):
                entry = json_line(event["message"])
                if (
                    entry
                    and entry.get("message") == "order processed"
                    and entry.get("order_id") == order_id
                ):
                    entries.append(entry)
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                return entries
            kwargs["nextToken"] = token


@dataclass
class Pipeline:
    """Everything an end-to-end test drives or inspects, for the environment in os.environ."""

    api: PipelineApi
    tables: Tables
    sns: Any
    topic_arn: str
    processor_log: ProcessorLog
    lambda_log: LambdaLog

    @classmethod
    def connect(cls, aws: Any, processor_log_path: Path | None = None) -> Pipeline:
        """`aws(service)` -> a client (the tests' fixture); fails if the API is not ready."""
        settings = Settings.from_env()
        if processor_log_path is None:
            processor_log_path = PlatformConfig.from_env().log_dir / "processor.log"
        api = PipelineApi()
        if not api.healthy():
            api.close()
            raise AssertionError(f"the API at {api.url} is not ready: start it with `make up`")
        assert settings.order_topic_arn, "ORDER_TOPIC_ARN cannot be derived"
        return cls(
            api=api,
            tables=Tables(aws("dynamodb"), settings),
            sns=aws("sns"),
            topic_arn=settings.order_topic_arn,
            processor_log=ProcessorLog(processor_log_path),
            lambda_log=LambdaLog(aws("logs"), f"{settings.env_name}-payment-fn"),
        )

    def close(self) -> None:
        self.api.close()
