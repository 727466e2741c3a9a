"""The per-process price cache behind the order path."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from flashsale.adapters.price_cache import PriceCache
from flashsale.domain.model import Product
from flashsale_testing.memory import InMemoryProductStore


def catalog() -> list[Product]:
    return [Product(pid, f"p{pid}", Decimal(pid), 5) for pid in range(1, 6)]


class Counting:
    def __init__(self, store: InMemoryProductStore):
        self.store = store
        self.reads: list[object] = []

    def get_many(self, ids):
        ids = sorted(ids)
        self.reads.append(ids)
        return self.store.get_many(ids)

    def load_all(self):
        self.reads.append("all")
        return self.store.list(limit=100)


def test_the_first_miss_loads_every_price_then_hits_read_nothing():
    source = Counting(InMemoryProductStore(catalog()))
    cache = PriceCache(source.get_many, source.load_all)
    assert cache.prices([2]) == {2: Decimal(2)}
    assert cache.prices([1, 5]) == {1: Decimal(1), 5: Decimal(5)}
    assert source.reads == ["all"]


def test_unknown_products_are_left_out_and_not_cached():
    source = Counting(InMemoryProductStore(catalog()))
    cache = PriceCache(source.get_many)
    assert cache.prices([1, 99]) == {1: Decimal(1)}
    source.store.put(Product(99, "new", Decimal("9.90"), 1))
    assert cache.prices([1, 99]) == {1: Decimal(1), 99: Decimal("9.90")}
    assert source.reads == [[1, 99], [99]]


def test_forget_rereads_only_the_forgotten_product():
    source = Counting(InMemoryProductStore(catalog()))
    cache = PriceCache(source.get_many, source.load_all)
    cache.prices([1, 2])
    source.store.change_price_elsewhere(2, Decimal("7.77"))
    assert cache.prices([2]) == {2: Decimal(2)}  # stale until told
    cache.forget([2])
    assert cache.prices([1, 2]) == {1: Decimal(1), 2: Decimal("7.77")}
    assert source.reads == ["all", [2]]
    cache.forget()
    cache.prices([3])
    assert source.reads[-1] == "all"


def test_a_store_update_is_seen_by_the_next_order_in_the_same_process():
    store = InMemoryProductStore(catalog())
    assert store.prices([3]) == {3: Decimal(3)}
    store.update(3, price=Decimal("3.50"))
    assert store.prices([3]) == {3: Decimal("3.50")}


def test_concurrent_first_misses_load_the_catalog_once():
    import threading

    source = Counting(InMemoryProductStore(catalog()))
    second_loader = threading.Barrier(2)

    def slow_all():  # a second concurrent loader would meet the first here
        with contextlib.suppress(threading.BrokenBarrierError):
            second_loader.wait(timeout=1)
        return source.load_all()

    cache = PriceCache(source.get_many, slow_all)
    threads = [threading.Thread(target=cache.prices, args=([pid],)) for pid in range(1, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert source.reads == ["all"]


def test_warm_loads_every_price_once_so_orders_read_nothing():
    source = Counting(InMemoryProductStore(catalog()))
    cache = PriceCache(source.get_many, source.load_all)
    cache.warm()
    cache.warm()
    assert cache.prices([1, 4]) == {1: Decimal(1), 4: Decimal(4)}
    assert source.reads == ["all"]
