"""Bounded load on 127.0.0.1: a burst of orders, or a steady rate that stops by itself."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

from flashsale.adapters.dynamodb import DynamoDbProductStore
from flashsale.domain.model import Product
from flashsale_chaos.stack import Stack

ROUTE_HEADER = "X-Processing-Route"
#: A client that waits longer than this for an answer calls the API hung.
CLIENT_TIMEOUT = 30.0
#: Scenario products get ids far above the default catalog (1..1000) and the tests' (900000+).
PRODUCT_ID_BASE = 800_000_000


@dataclass(frozen=True)
class OrderSpec:
    route: str  # "ecs" | "lambda" (async), or "sync"
    product_id: int
    quantity: int = 1
    customer_id: int = 4242

    def body(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "items": [{"product_id": self.product_id, "quantity": self.quantity}],
        }


@dataclass(frozen=True)
class Answer:
    spec: OrderSpec
    status: int | None  # None: no answer (timeout, connection refused)
    body: dict[str, Any]
    seconds: float
    sent_at: float  # time.monotonic() when the request left
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 202

    @property
    def order_id(self) -> str | None:
        return self.body.get("order_id") if isinstance(self.body, dict) else None


class Api:
    def __init__(self, url: str, pool: int = 32) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=pool)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        self.session.close()

    def place(self, spec: OrderSpec, timeout: float = CLIENT_TIMEOUT) -> Answer:
        headers = {}
        path = "/orders/sync"
        if spec.route != "sync":
            path, headers[ROUTE_HEADER] = "/orders/async", spec.route
        started, sent_at = time.perf_counter(), time.monotonic()
        try:
            response = self.session.post(
                f"{self.url}{path}", json=spec.body(), headers=headers, timeout=timeout
            )
        except requests.RequestException as exc:
            return Answer(spec, None, {}, time.perf_counter() - started, sent_at, repr(exc))
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:200]}
        return Answer(spec, response.status_code, body, time.perf_counter() - started, sent_at)

    def place_many(self, specs: Sequence[OrderSpec], workers: int = 16) -> list[Answer]:
        if not specs:
            return []
        with ThreadPoolExecutor(max(1, min(workers, len(specs)))) as pool:
            return list(pool.map(self.place, specs))

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.url}/orders/{order_id}", timeout=10)
        response.raise_for_status()
        return response.json()


class SteadyLoad:
    """Places orders at `rate` per second on a background thread, at most `limit` of them,
    until stopped. Each request runs on its own worker so a slow answer never stalls the rate."""

    def __init__(
        self, api: Api, specs: Callable[[int], OrderSpec], rate: float, limit: int, workers: int = 8
    ) -> None:
        self.api = api
        self.specs = specs
        self.interval = 1.0 / rate
        self.limit = limit
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="load")
        self._thread = threading.Thread(target=self._run, name="steady-load", daemon=True)

    def start(self) -> SteadyLoad:
        self._thread.start()
        return self

    def stop(self) -> list[Answer]:
        self._stop.set()
        self._thread.join()
        self._pool.shutdown(wait=True)
        with self._lock:
            return sorted(self.answers, key=lambda a: a.sent_at)

    def _record(self, spec: OrderSpec) -> None:
        answer = self.api.place(spec)
        with self._lock:
            self.answers.append(answer)

    def _run(self) -> None:
        next_at = time.monotonic()
        for index in range(self.limit):
            if self._stop.wait(max(0.0, next_at - time.monotonic())):
                return
            self._pool.submit(self._record, self.specs(index))
            next_at += self.interval


def new_products(stack: Stack, label: str, stocks: Iterable[int]) -> dict[int, int]:
    """Fresh products nobody else orders (so their stock is the scenario's): id -> stock."""
    store = DynamoDbProductStore(stack.client("dynamodb"), stack.settings.products_table)
    created: dict[int, int] = {}
    for stock in stocks:
        product_id = PRODUCT_ID_BASE + random.randrange(10**8)
        store.put(
            Product(
                product_id=product_id,
                name=f"chaos {label} {product_id}",
                price=Decimal("5.00"),
                stock=stock,
                category="chaos",
                description=f"stock of the {label} fault-injection scenario",
            )
        )
        created[product_id] = stock
    return created
