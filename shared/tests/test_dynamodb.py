"""The DynamoDB adapters against moto (in-process)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from flashsale.adapters.dynamodb import (
    DynamoDbIdempotencyStore,
    DynamoDbOrderStore,
    DynamoDbPaymentLedger,
    DynamoDbProductStore,
    create_tables,
)
from flashsale.adapters.dynamodb.orders import DuplicateOrder
from flashsale.domain.model import OrderStatus, Product, Route
from flashsale.ports import IdempotencyConflict, LedgerEntry
from flashsale_testing.memory import InMemoryPaymentLedger

from .conftest import make_products
from .moto_support import SETTINGS, dynamodb_with_tables, moto_aws
from .store_contract import IdempotencyStoreContract, OrderStoreContract, new_order


@pytest.fixture
def ddb():
    with moto_aws():
        yield dynamodb_with_tables()


@pytest.fixture
def products(ddb):
    store = DynamoDbProductStore(ddb, SETTINGS.products_table, cache_seconds=0)
    store.seed(make_products(stock=10))
    return store


@pytest.fixture
def orders(ddb, products):
    return DynamoDbOrderStore(ddb, SETTINGS.orders_table, SETTINGS.products_table)


class TestDynamoDbOrderStore(OrderStoreContract):
    def test_order_round_trips_every_field(self, orders):
        order = new_order((1, 2), (2, 1))
        orders.place(order)
        orders.transition(
            order.order_id,
            {OrderStatus.PENDING},
            OrderStatus.FAILED,
            failed_at="t",
            failure_reason="payment_declined",
            payment_id="pay_1",
        )
        stored = orders.get(order.order_id)
        assert stored.items == order.items
        assert stored.total == Decimal("7.50")
        assert (stored.failed_at, stored.failure_reason, stored.payment_id) == (
            "t",
            "payment_declined",
            "pay_1",
        )

    def test_duplicate_order_id_is_refused_without_reserving(self, orders, products):
        order = new_order((1, 1))
        orders.place(order)
        with pytest.raises(DuplicateOrder):
            orders.place(order)
        assert products.get(1).stock == 9

    def test_undecided_orders_are_scanned_page_by_page(self, orders):
        wanted = [new_order((1, 1)) for _ in range(3)] + [new_order((2, 1), route=Route.LAMBDA)]
        done, sync = new_order((1, 1)), new_order((3, 1), route=Route.SYNC)
        for order in [*wanted, done, sync]:
            orders.place(order)
        orders.transition(wanted[0].order_id, {OrderStatus.PENDING}, OrderStatus.PROCESSING)
        orders.transition(done.order_id, {OrderStatus.PENDING}, OrderStatus.FAILED)

        found = list(orders.undecided([Route.ECS, Route.LAMBDA], page_size=2))

        assert sorted(o.order_id for o in found) == sorted(o.order_id for o in wanted)
        assert list(orders.undecided([])) == []


def test_one_payment_costs_three_dynamodb_calls(ddb, orders, products):
    """The payment flow's data-plane cost: start (answering with the order), the keyed charge,
    the outcome (a group commit: shared with concurrent outcomes). A decline's outcome releases
    the stock in the same transaction."""
    from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
    from flashsale.services.payments import PaymentDeps, process_payment

    calls: list[str] = []
    ddb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    ledger = DynamoDbPaymentLedger(ddb, SETTINGS.payments_table)
    for decline_rate, outcome in ((0.0, OrderStatus.COMPLETED), (1.0, OrderStatus.FAILED)):
        order = new_order((1, 2), (2, 1))
        orders.place(order)
        calls.clear()
        gateway = SimulatedPaymentGateway(ledger, latency=0, decline_rate=decline_rate)
        result = process_payment(order.order_id, PaymentDeps(orders, gateway))
        assert result.status is outcome and result.charged
        assert calls == ["UpdateItem", "TransactWriteItems", "TransactWriteItems"]
    assert products.get(1).stock == 8  # the declined order's units are back


class TestDynamoDbIdempotencyStore(IdempotencyStoreContract):
    @pytest.fixture
    def idempotency(self, ddb):
        return DynamoDbIdempotencyStore(ddb, SETTINGS.idempotency_table)

    def test_records_use_the_powertools_layout_under_a_prefix(self, ddb, idempotency):
        idempotency.begin("abc", "fp")
        idempotency.complete("abc", 202, {"total": Decimal("1.50")})
        item = ddb.get_item(TableName=SETTINGS.idempotency_table, Key={"id": {"S": "api#abc"}})
        assert item["Item"]["status"] == {"S": "COMPLETED"}
        assert "expiration" in item["Item"]
        assert idempotency.begin("abc", "fp").body == {"total": 1.5}


def test_stale_in_flight_and_expired_records_can_be_reclaimed(ddb):
    now = [1_000_000.0]
    store = DynamoDbIdempotencyStore(
        ddb, SETTINGS.idempotency_table, ttl_seconds=100, in_flight_seconds=5, clock=lambda: now[0]
    )
    assert store.begin("k", "fp") is None
    with pytest.raises(IdempotencyConflict):
        store.begin("k", "fp")
    now[0] += 6
    assert store.begin("k", "fp") is None
    store.complete("k", 200, {})
    now[0] += 101  # expired (DynamoDB's TTL deletion may lag: the condition must not)
    assert store.begin("k", "other") is None


def test_product_store_get_many_list_search_update(products):
    assert set(products.get_many([1, 3, 42])) == {1, 3}
    assert [p.product_id for p in products.list(limit=2)] == [1, 2]
    assert [p.product_id for p in products.list(after=2)] == [3]
    found, total = products.search("scarf")
    assert [p.product_id for p in found] == [3] and total == 1
    updated = products.update(2, price=Decimal("6.25"), description=None, stock=3)
    assert (updated.price, updated.stock, updated.description) == (Decimal("6.25"), 3, None)
    assert products.update(42, stock=1) is None
    with pytest.raises(ValueError):
        products.update(2, bogus=5)


def eventually(probe, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_catalog_snapshot_is_cached_until_written(ddb):
    now = [0.0]
    store = DynamoDbProductStore(
        ddb, SETTINGS.products_table, cache_seconds=5, clock=lambda: now[0]
    )
    store.seed(make_products())
    assert len(store.list()) == 3
    ddb.delete_item(TableName=SETTINGS.products_table, Key={"product_id": {"N": "3"}})
    assert len(store.list()) == 3  # still the snapshot
    now[0] += 6
    assert len(store.list()) == 3  # stale: served while a background thread refreshes it
    eventually(lambda: len(store.list()) == 2)
    now[0] += 60  # far too old (refreshing kept failing): read synchronously
    ddb.delete_item(TableName=SETTINGS.products_table, Key={"product_id": {"N": "2"}})
    assert len(store.list()) == 1
    store.put(Product(9, "New", Decimal(1), 1))
    assert [p.product_id for p in store.list()] == [1, 9]  # a write invalidates the snapshot


def test_seed_writes_more_than_one_batch(ddb):
    store = DynamoDbProductStore(ddb, SETTINGS.products_table, cache_seconds=0)
    catalog = [Product(i, f"P{i}", Decimal("1.00"), 5) for i in range(1, 61)]
    assert store.seed(catalog) == 60
    assert len(store.list(limit=1000)) == 60
    assert len(store.get_many(range(1, 150))) == 60


def test_ledger_keeps_every_charge_in_order(ddb):
    ledger = DynamoDbPaymentLedger(ddb, SETTINGS.payments_table)
    assert ledger.charges("o1") == []
    for charge_id, at in (("ch_b", "2026-01-01T00:00:02Z"), ("ch_a", "2026-01-01T00:00:01Z")):
        ledger.record(LedgerEntry("o1", charge_id, "approved", Decimal("9.99"), 4, at, "k"), 1e12)
    ledger.record(LedgerEntry("o1", "ch_c", "approved", Decimal("9.99"), 4, "2026-01-01T00:00:03Z"))
    # the second keyed record replayed the first: nothing written
    assert [e.charge_id for e in ledger.charges("o1")] == ["ch_b", "ch_c"]
    assert ledger.charges("o1")[0].amount == Decimal("9.99")
    assert ledger.by_key("k", time.time()).charge_id == "ch_b"
    assert ledger.by_key("k", 2e12) is None  # expired
    assert ledger.charges("o2") == []


def test_create_tables_is_idempotent(ddb):
    assert create_tables(ddb, SETTINGS) == []
    ttl = ddb.describe_time_to_live(TableName=SETTINGS.idempotency_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiration"


def test_many_buyers_of_many_products_never_oversell(orders, products):
    """Mixed baskets racing for stock: every accepted order is fully reserved, stock >= 0."""
    accepted = []
    lock = threading.Lock()

    def buyer(index: int) -> None:
        basket = [(1 + index % 3, 1), (1 + (index + 1) % 3, 2)]
        order = new_order(*basket)
        try:
            orders.place(order)
        except Exception:
            return
        with lock:
            accepted.append(order)

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    reserved = {1: 0, 2: 0, 3: 0}
    for order in accepted:
        for pid, qty in order.quantities().items():
            reserved[pid] += qty
    for pid in (1, 2, 3):
        assert products.get(pid).stock == 10 - reserved[pid] >= 0


def test_initial_stock_is_recorded_and_follows_stock_updates(ddb, products, orders):
    def initial(pid: int) -> int:
        item = ddb.get_item(TableName=SETTINGS.products_table, Key={"product_id": {"N": str(pid)}})
        return int(item["Item"]["initial_stock"]["N"])

    assert initial(1) == 10  # seeded
    orders.place(new_order((1, 4)))
    assert products.update(1, stock=20).stock == 20  # a restock of 14 on the 6 left
    assert initial(1) == 24  # 20 on the shelf + 4 held by the order
    products.update(1, price=Decimal("3.00"))
    assert initial(1) == 24
    assert products.update(999, stock=5) is None


@pytest.mark.parametrize("kind", ["dynamodb", "memory"])
def test_a_refund_takes_back_an_approved_charge_once(ddb, kind):
    ledger = (
        DynamoDbPaymentLedger(ddb, SETTINGS.payments_table)
        if kind == "dynamodb"
        else InMemoryPaymentLedger()
    )
    at = "2026-01-01T00:00:01Z"
    ledger.record(LedgerEntry("o1", "ch_ok", "approved", Decimal("5"), 4, at))
    ledger.record(LedgerEntry("o1", "ch_no", "declined", Decimal("5"), 4, at))
    assert ledger.refund("o1", "ch_ok") is True
    assert ledger.refund("o1", "ch_ok") is False  # already refunded
    assert ledger.refund("o1", "ch_no") is False  # a decline moved no money
    assert ledger.refund("o1", "ch_missing") is False
    assert {e.charge_id: e.status for e in ledger.charges("o1")} == {
        "ch_no": "declined",
        "ch_ok": "refunded",
    }
