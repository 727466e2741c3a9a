"""Per-process product prices for the order path, so placing an order reads no catalog.

Entries never expire on their own: every reservation is conditional on the cached price being
the product's current one, so a stale entry costs one refused write (then `forget` and a re-read),
never a wrongly priced order. Unknown products are not cached (a product may be created later).
With `load_all`, the first miss loads every product's price at once (the catalog is small), so a
sale over many products does not read the table once per product and process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from decimal import Decimal

from flashsale.domain.model import Product


class PriceCache:
    def __init__(
        self,
        load: Callable[[Iterable[int]], dict[int, Product]],
        load_all: Callable[[], Iterable[Product]] | None = None,
    ):
        self._load = load
        self._load_all = load_all
        self._lock = threading.Lock()
        self._loading_all = threading.Lock()  # one thread loads the catalog, the others wait
        self._prices: dict[int, Decimal] = {}
        self._complete = False  # every product was loaded once (since the last forget-all)
        self._generation = 0

    def prices(self, product_ids: Iterable[int]) -> dict[int, Decimal]:
        found, missing, generation = self._cached(set(product_ids))
        if missing and self._load_all is not None and not self._complete:
            self.warm()
            more, missing, generation = self._cached(missing)
            found.update(more)
        if missing:
            loaded = {pid: Decimal(p.price) for pid, p in self._load(missing).items()}
            found.update(loaded)
            self._keep(loaded, generation)
        return found

    def warm(self) -> None:
        """Load every price (with `load_all`) unless done: one thread loads, the others wait."""
        if self._load_all is None:
            return
        with self._loading_all:
            with self._lock:
                if self._complete:
                    return
                generation = self._generation
            everything = {p.product_id: Decimal(p.price) for p in self._load_all()}
            self._keep(everything, generation, complete=True)

    def _cached(self, wanted: set[int]) -> tuple[dict[int, Decimal], set[int], int]:
        with self._lock:
            found = {pid: self._prices[pid] for pid in wanted if pid in self._prices}
            return found, wanted - found.keys(), self._generation

    def _keep(self, prices: dict[int, Decimal], generation: int, complete: bool = False) -> None:
        with self._lock:
            if generation == self._generation:  # no forget() raced the read
                self._prices.update(prices)
                self._complete = self._complete or complete

    def forget(self, product_ids: Iterable[int] | None = None) -> None:
        """Drop these products' prices (all of them with None)."""
        with self._lock:
            self._generation += 1
            if product_ids is None:
                self._prices.clear()
                self._complete = False
            else:
                for pid in product_ids:
                    self._prices.pop(pid, None)


class CachedPrices:
    """The ProductStore price methods, over the PriceCache a store keeps in `_prices`."""

    _prices: PriceCache

    def prices(self, product_ids: Iterable[int]) -> dict[int, Decimal]:
        return self._prices.prices(product_ids)

    def forget_prices(self, product_ids: Iterable[int]) -> None:
        self._prices.forget(product_ids)

    def warm_prices(self) -> None:
        self._prices.warm()
