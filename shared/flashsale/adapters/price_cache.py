"""Per-process product prices for the order path, so placing an order reads no catalog.

Entries never expire on their own: every reservation is conditional on the cached price being
the product's current one, so a stale entry costs one refused write (then `forget` and a re-read),
never a wrongly priced order. Unknown products are not cached (a product may be created later).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from decimal import Decimal

from flashsale.domain.model import Product


class PriceCache:
    def __init__(self, load: Callable[[Iterable[int]], dict[int, Product]]):
        self._load = load
        self._lock = threading.Lock()
        self._prices: dict[int, Decimal] = {}
        self._generation = 0

    def prices(self, product_ids: Iterable[int]) -> dict[int, Decimal]:
        wanted = set(product_ids)
        with self._lock:
            found = {pid: self._prices[pid] for pid in wanted if pid in self._prices}
            generation = self._generation
        missing = wanted - found.keys()
        if missing:
            loaded = {pid: Decimal(p.price) for pid, p in self._load(missing).items()}
            found.update(loaded)
            with self._lock:
                if generation == self._generation:  # no forget() raced the read
                    self._prices.update(loaded)
        return found

    def forget(self, product_ids: Iterable[int] | None = None) -> None:
        """Drop these products' prices (all of them with None)."""
        with self._lock:
            self._generation += 1
            if product_ids is None:
                self._prices.clear()
            else:
                for pid in product_ids:
                    self._prices.pop(pid, None)
