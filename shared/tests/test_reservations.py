"""The reservation coalescer (group commit) over the in-memory store, and the DynamoDB
reservation store against moto."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest

from flashsale.adapters.dynamodb import DynamoDbOrderStore, DynamoDbProductStore
from flashsale.adapters.dynamodb.reservations import DynamoDbReservationStore
from flashsale.domain.model import Order, OrderItem, OutOfStock, Product, Route, UnknownProduct
from flashsale.domain.reservation import BatchRejection, DuplicateOrder, PriceChanged
from flashsale.ports import ReservationStore, StoreBusy
from flashsale.services.reservations import Reserver
from flashsale_testing.memory import (
    InMemoryOrderStore,
    InMemoryProductStore,
    InMemoryReservationStore,
)

from .moto_support import SETTINGS, dynamodb_with_tables, moto_aws

PRICE = {1: Decimal("19.99"), 2: Decimal("5.00"), 3: Decimal("12.50")}


def catalog(stock: int) -> list[Product]:
    return [Product(pid, f"p{pid}", price, stock) for pid, price in PRICE.items()]


def order(*lines: tuple[int, int], price: Decimal | None = None) -> Order:
    items = [OrderItem(pid, qty, price or PRICE.get(pid, Decimal("1"))) for pid, qty in lines]
    return Order.new(7, items, Route.ECS)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.005)


class Gated:
    """A ReservationStore whose first write waits until `release()`, so the orders placed
    meanwhile queue up and the next write carries them as one batch (no timing involved)."""

    def __init__(self, inner: ReservationStore):
        self.inner = inner
        self.max_actions = inner.max_actions
        self.max_bytes = inner.max_bytes
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.contents: list[list[Order]] = []

    @property
    def batches(self) -> list[int]:
        return [len(batch) for batch in self.contents]

    def size(self, order: Order) -> int:
        return self.inner.size(order)

    def reserve(self, orders: Sequence[Order]) -> BatchRejection | None:
        self.contents.append(list(orders))
        self.entered.set()
        self.gate.wait(10)
        return self.inner.reserve(orders)


def place_all(reserver: Reserver, orders: Sequence[Order]) -> dict[str, BaseException | None]:
    """Place each order on its own thread; the outcome per order id (None: accepted)."""
    outcomes: dict[str, BaseException | None] = {}

    def place(o: Order) -> None:
        try:
            reserver.place(o)
            outcomes[o.order_id] = None
        except BaseException as exc:
            outcomes[o.order_id] = exc

    threads = [threading.Thread(target=place, args=(o,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == len(orders), "a caller never got an answer"
    return outcomes


def batched(
    reserver: Reserver, gated: Gated, first: Order, rest: Sequence[Order]
) -> dict[str, BaseException | None]:
    """`first` is written alone (held at the gate) while `rest` queue; then all go."""
    results: dict[str, BaseException | None] = {}
    lead = threading.Thread(target=lambda: results.update(place_all(reserver, [first])))
    lead.start()
    assert gated.entered.wait(10)
    followers = threading.Thread(target=lambda: results.update(place_all(reserver, rest)))
    followers.start()
    wait_until(lambda: len(reserver._queue) == len(rest))
    gated.gate.set()
    lead.join(30)
    followers.join(30)
    return results


@pytest.fixture
def store() -> InMemoryReservationStore:
    return InMemoryReservationStore(InMemoryOrderStore(InMemoryProductStore(catalog(100))))


def test_a_lone_order_is_written_at_once_and_alone(store):
    reserver = Reserver(store)
    o = order((1, 2))
    reserver.place(o)
    assert store.calls == [1]
    assert store.orders.get(o.order_id) == o
    assert store.orders.products.get(1).stock == 98
    assert (reserver.stats.writes, reserver.stats.orders, reserver.stats.max_batch) == (1, 1, 1)


def test_orders_queued_behind_a_write_share_the_next_one(store):
    gated = Gated(store)
    reserver = Reserver(gated)
    rest = [order((1, 1), (2, 1)) for _ in range(12)]
    outcomes = batched(reserver, gated, order((1, 1)), rest)
    assert all(error is None for error in outcomes.values())
    assert gated.batches == [1, 12]
    assert store.orders.products.get(1).stock == 100 - 13
    assert store.orders.products.get(2).stock == 100 - 12
    assert reserver.stats.max_batch == 12


def test_a_batch_short_of_stock_is_split_until_exactly_the_stock_is_sold():
    store = InMemoryReservationStore(InMemoryOrderStore(InMemoryProductStore(catalog(7))))
    gated = Gated(store)
    reserver = Reserver(gated)
    rest = [order((1, 1)) for _ in range(15)]
    outcomes = batched(reserver, gated, order((1, 1)), rest)
    accepted = [oid for oid, error in outcomes.items() if error is None]
    refused = [error for error in outcomes.values() if error is not None]
    assert len(accepted) == 7
    assert all(isinstance(error, OutOfStock) for error in refused) and len(refused) == 9
    assert store.orders.products.get(1).stock == 0
    assert {o.order_id for o in store.orders.all()} == set(accepted)
    assert store.calls[:2] == [1, 15] and store.calls[2] == 7  # cancelled, then split in halves


@pytest.mark.parametrize("buyers,stock", [(20, 1), (20, 19), (33, 16), (5, 40)])
def test_n_buyers_of_s_units_get_min_n_s_whatever_the_batching(buyers, stock):
    store = InMemoryReservationStore(InMemoryOrderStore(InMemoryProductStore(catalog(stock))))
    gated = Gated(store)
    reserver = Reserver(gated, batch_limit=8)
    rest = [order((1, 1)) for _ in range(buyers - 1)]
    outcomes = batched(reserver, gated, order((1, 1)), rest)
    assert sum(error is None for error in outcomes.values()) == min(buyers, stock)
    assert store.orders.products.get(1).stock == stock - min(buyers, stock)
    assert max(gated.batches) <= 8


def test_one_bad_order_never_fails_its_neighbours(store):
    existing = order((2, 1))
    store.orders.place(existing)
    gated = Gated(store)
    reserver = Reserver(gated)
    good = [order((1, 1)) for _ in range(5)]
    unknown = order((1, 1), (99, 1))
    too_many = order((3, 101))
    bad = [existing, unknown, too_many]
    outcomes = batched(reserver, gated, order((2, 1)), [*good[:3], *bad, *good[3:]])
    assert all(outcomes[o.order_id] is None for o in good)
    assert isinstance(outcomes[existing.order_id], DuplicateOrder)
    assert isinstance(outcomes[unknown.order_id], UnknownProduct)
    assert isinstance(outcomes[too_many.order_id], OutOfStock)
    assert store.orders.products.get(1).stock == 95
    assert store.orders.products.get(3).stock == 100
    assert gated.batches == [1, 8, 5]  # the refused left, the rest written together


def test_a_stale_price_refuses_only_the_orders_priced_from_it(store):
    store.orders.products.change_price_elsewhere(1, Decimal("21.00"))
    gated = Gated(store)
    reserver = Reserver(gated)
    stale = [order((1, 1)) for _ in range(3)]
    fresh = [order((2, 1)) for _ in range(3)]
    outcomes = batched(reserver, gated, order((2, 1)), [*stale, *fresh])
    assert all(isinstance(outcomes[o.order_id], PriceChanged) for o in stale)
    assert all(outcomes[o.order_id] is None for o in fresh)
    assert store.orders.products.get(1).stock == 100


def test_batches_respect_the_limit_the_action_count_and_one_price_per_product(store):
    store.max_actions = 10
    gated = Gated(store)
    reserver = Reserver(gated, batch_limit=8)
    rest = [order((1, 1), (2, 1), (3, 1)) for _ in range(4)]
    rest += [order((1, 1)) for _ in range(8)]
    odd = order((1, 1), price=Decimal("19.98"))  # priced otherwise: never beside the others
    outcomes = batched(reserver, gated, order((2, 1)), [*rest, odd])
    assert sum(error is None for error in outcomes.values()) == 13
    assert isinstance(outcomes[odd.order_id], PriceChanged)
    assert sum(gated.batches[1:]) == len(rest) + 1
    for batch in gated.contents:
        products = {pid for o in batch for pid in o.quantities()}
        assert len(batch) <= 8 and len(batch) + len(products) <= 10
        assert odd not in batch or batch == [odd]
    assert max(gated.batches) > 1


def test_an_order_too_large_for_one_write_is_refused_up_front(store):
    store.max_actions = 3
    with pytest.raises(ValueError, match="too large"):
        Reserver(store).place(order((1, 1), (2, 1), (3, 1)))
    assert store.calls == []


def test_a_failing_write_fails_its_batch_only_and_the_next_order_still_goes(store):
    class Flaky:
        max_actions, max_bytes = store.max_actions, store.max_bytes
        size = staticmethod(store.size)
        fail = True

        def reserve(self, orders):
            if self.fail:
                self.fail = False
                raise StoreBusy("contention")
            return store.reserve(orders)

    reserver = Reserver(Flaky())
    with pytest.raises(StoreBusy):
        reserver.place(order((1, 1)))
    reserver.place(order((1, 1)))
    assert store.orders.products.get(1).stock == 99
    assert reserver._sending is False and reserver._queue == []


def test_many_threads_all_answered_and_stock_exact():
    store = InMemoryReservationStore(InMemoryOrderStore(InMemoryProductStore(catalog(37))))
    reserver = Reserver(store, batch_limit=16)
    outcomes = place_all(reserver, [order((1, 1)) for _ in range(200)])
    assert sum(error is None for error in outcomes.values()) == 37
    assert all(isinstance(e, OutOfStock) for e in outcomes.values() if e is not None)
    assert store.orders.products.get(1).stock == 0
    assert len(store.orders.all()) == 37
    assert reserver._sending is False and reserver._queue == []


def test_without_coalescing_every_order_is_its_own_write(store):
    reserver = Reserver(store, coalesce=False)
    place_all(reserver, [order((1, 1)) for _ in range(20)])
    assert store.calls == [1] * 20
    assert store.orders.products.get(1).stock == 80


# --- the DynamoDB store, against moto ---------------------------------------------------------


@pytest.fixture
def ddb_store():
    with moto_aws():
        client = dynamodb_with_tables()
        products = DynamoDbProductStore(client, SETTINGS.products_table, cache_seconds=0)
        products.seed(catalog(7))
        yield (
            DynamoDbReservationStore(client, SETTINGS.orders_table, SETTINGS.products_table),
            DynamoDbOrderStore(client, SETTINGS.orders_table, SETTINGS.products_table),
            products,
        )


def test_dynamodb_batch_is_one_write_of_every_order_and_each_product_total(ddb_store):
    store, orders, products = ddb_store
    batch = [order((1, 2), (2, 1)), order((1, 1)), order((2, 3))]
    assert store.reserve(batch) is None
    assert (products.get(1).stock, products.get(2).stock) == (4, 3)
    assert all(orders.get(o.order_id) == o for o in batch)


def test_dynamodb_rejection_names_each_orders_own_fault_and_the_short_products(ddb_store):
    store, orders, products = ddb_store
    existing = order((3, 1))
    assert store.reserve([existing]) is None
    batch = [
        order((1, 4)),
        order((1, 4)),  # with the one before: 8 of 7
        order((2, 1), price=Decimal("4.99")),  # priced from a stale price
        order((99, 1)),  # no such product
        order((3, 8)),  # more than the whole stock
        existing,
    ]
    rejection = store.reserve(batch)
    assert rejection is not None
    kinds = {oid: type(error) for oid, error in rejection.refused.items()}
    assert kinds == {
        batch[2].order_id: PriceChanged,
        batch[3].order_id: UnknownProduct,
        batch[4].order_id: OutOfStock,
        existing.order_id: DuplicateOrder,
    }
    assert rejection.short == {1}
    assert (products.get(1).stock, products.get(2).stock, products.get(3).stock) == (7, 7, 6)
    assert orders.get(batch[0].order_id) is None


def test_dynamodb_coalesced_sell_out_is_exact(ddb_store):
    store, orders, products = ddb_store
    gated = Gated(store)
    reserver = Reserver(gated)
    rest = [order((1, 1)) for _ in range(11)]
    outcomes = batched(reserver, gated, order((1, 1)), rest)
    accepted = [oid for oid, error in outcomes.items() if error is None]
    assert len(accepted) == 7
    assert products.get(1).stock == 0
    assert all(orders.get(oid) is not None for oid in accepted)
    assert gated.batches[:2] == [1, 11]


def test_dynamodb_a_retried_request_whose_first_attempt_was_written_is_a_success(ddb_store):
    store, orders, products = ddb_store

    class LostAnswer:
        """The first attempt is applied but its answer lost; the SDK sends it again."""

        def __init__(self, inner):
            self.inner = inner

        def transact_write_items(self, **request):
            self.inner.transact_write_items(**request)
            return self.inner.transact_write_items(**request)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    store._client = LostAnswer(store._client)
    batch = [order((1, 2)), order((1, 1))]
    assert store.reserve(batch) is None
    assert products.get(1).stock == 4
    assert all(orders.get(o.order_id) == o for o in batch)
    assert store.reserve([batch[0]]) is not None  # a new request for an existing order is not
