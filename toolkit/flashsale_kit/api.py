"""The order API of a running stack, over one pooled HTTP session: place orders (answers never
raise: a refused connection or a timeout is an answer without a status), read them back, and set
a product's stock with the admin key."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

ROUTE_HEADER = "X-Processing-Route"
#: A client that waits longer than this for an answer calls the API hung.
CLIENT_TIMEOUT = 30.0


class ApiError(RuntimeError):
    """The API answered a read or an admin write with something other than 200."""


def answers(url: str, path: str = "/ready", timeout: float = 2.0) -> bool:
    """Whether GET url+path answers 200 (a server that is up; /ready: with its dependencies)."""
    try:
        return requests.get(f"{url.rstrip('/')}{path}", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def order_body(customer_id: int, product_id: int, quantity: int = 1) -> dict[str, Any]:
    return {"customer_id": customer_id, "items": [{"product_id": product_id, "quantity": quantity}]}


@dataclass(frozen=True)
class Answer:
    """One POST /orders/<route>'s answer."""

    route: str
    status_code: int | None  # None: no answer (timeout, connection refused)
    body: dict[str, Any]
    request: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    sent_at: float = 0.0  # time.monotonic() when the request left
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status_code == 202

    @property
    def order_id(self) -> str | None:
        return self.body.get("order_id") if isinstance(self.body, dict) else None


class Api:
    def __init__(self, url: str | None = None, pool: int = 64, admin_key: str | None = None):
        self.url = (url or os.environ.get("API_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.admin_key = admin_key or os.environ.get("ADMIN_API_KEY", "local-admin-key")
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        self.session.close()

    def ready(self) -> bool:
        return answers(self.url, timeout=5)

    # -- orders ------------------------------------------------------------------------------

    def place(
        self,
        route: str,
        body: Mapping[str, Any],
        idempotency_key: str | None = None,
        timeout: float = CLIENT_TIMEOUT,
    ) -> Answer:
        """POST to /orders/sync (route `sync`) or /orders/async with the route header."""
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        path = "/orders/sync"
        if route != "sync":
            path, headers[ROUTE_HEADER] = "/orders/async", route
        started, sent_at = time.perf_counter(), time.monotonic()
        try:
            response = self.session.post(
                f"{self.url}{path}", json=dict(body), headers=headers, timeout=timeout
            )
        except requests.RequestException as exc:
            took = time.perf_counter() - started
            return Answer(route, None, {}, body, took, sent_at, repr(exc))
        try:
            answer = response.json()
        except ValueError:
            answer = {"raw": response.text[:200]}
        took = time.perf_counter() - started
        return Answer(route, response.status_code, answer, body, took, sent_at)

    def place_many(
        self, orders: Sequence[tuple[str, Mapping[str, Any]]], workers: int = 16
    ) -> list[Answer]:
        """Place (route, body) pairs concurrently; answers in the same order."""
        if not orders:
            return []
        with ThreadPoolExecutor(max(1, min(workers, len(orders)))) as pool:
            return list(pool.map(lambda pair: self.place(*pair), orders))

    def find(self, order_id: str, timeout: float = 10.0) -> dict[str, Any] | None:
        """GET /orders/<id>; None when it is not found or the API does not answer."""
        try:
            response = self.session.get(f"{self.url}/orders/{order_id}", timeout=timeout)
        except requests.RequestException:
            return None
        return response.json() if response.status_code == 200 else None

    def find_many(
        self, order_ids: Iterable[str], workers: int = 8
    ) -> dict[str, dict[str, Any] | None]:
        ids = list(dict.fromkeys(order_ids))
        with ThreadPoolExecutor(workers) as pool:
            return dict(zip(ids, pool.map(self.find, ids), strict=True))

    def order(self, order_id: str) -> dict[str, Any]:
        """GET /orders/<id>, which must answer 200."""
        return self._json("GET", f"/orders/{order_id}")

    def orders(self, order_ids: Iterable[str], workers: int = 8) -> dict[str, dict[str, Any]]:
        ids = list(dict.fromkeys(order_ids))
        with ThreadPoolExecutor(workers) as pool:
            return dict(zip(ids, pool.map(self.order, ids), strict=True))

    # -- products ----------------------------------------------------------------------------

    def stock(self, product_id: int) -> int:
        return self._json("GET", f"/products/{product_id}")["stock"]

    def set_stock(self, product_id: int, stock: int) -> dict[str, Any]:
        """PUT /products/<id> {"stock": n} with the admin key: what a shop runs before a sale."""
        headers = {"X-Admin-Key": self.admin_key}
        return self._json("PUT", f"/products/{product_id}", json={"stock": stock}, headers=headers)

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, f"{self.url}{path}", timeout=10, **kwargs)
        if response.status_code != 200:
            raise ApiError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()
