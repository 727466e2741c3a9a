"""Bounded load on 127.0.0.1: a burst of orders, or a steady rate that stops by itself."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flashsale_kit.api import Answer, Api, order_body
from flashsale_kit.polling import Ticker

#: Scenario products get ids far above the default catalog (1..1000) and the tests' (900000+).
PRODUCT_ID_BASE = 800_000_000


@dataclass(frozen=True)
class OrderSpec:
    route: str  # "ecs" | "lambda" (async), or "sync"
    product_id: int
    quantity: int = 1
    customer_id: int = 4242

    def pair(self) -> tuple[str, dict]:
        """(route, body) as `Api.place` takes them."""
        return self.route, order_body(self.customer_id, self.product_id, self.quantity)


def place_all(api: Api, specs: Sequence[OrderSpec], workers: int = 16) -> list[Answer]:
    return api.place_many([spec.pair() for spec in specs], workers)


class SteadyLoad:
    """Places orders at `rate` per second on a background thread, at most `limit` of them,
    until stopped. Each request runs on its own worker so a slow answer never stalls the rate."""

    def __init__(
        self, api: Api, specs: Callable[[int], OrderSpec], rate: float, limit: int, workers: int = 8
    ) -> None:
        self.api = api
        self.specs = specs
        self.limit = limit
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._placed = 0
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="load")
        self._ticker = Ticker(self._next, 1.0 / rate, "steady-load")

    def start(self) -> SteadyLoad:
        self._ticker.start()
        return self

    def stop(self) -> list[Answer]:
        self._ticker.stop(None)
        self._pool.shutdown(wait=True)
        with self._lock:
            return sorted(self.answers, key=lambda a: a.sent_at)

    def _record(self, spec: OrderSpec) -> None:
        answer = self.api.place(*spec.pair())
        with self._lock:
            self.answers.append(answer)

    def _next(self) -> bool:
        """Submit the next order; False once `limit` are placed."""
        if self._placed < self.limit:
            self._pool.submit(self._record, self.specs(self._placed))
            self._placed += 1
        return self._placed < self.limit
