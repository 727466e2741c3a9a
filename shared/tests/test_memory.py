import pytest

from flashsale.domain.model import Route
from flashsale.events import OrderPlaced, decode
from flashsale.ports import PublishError
from flashsale_testing.memory import (
    InMemoryEventPublisher,
    InMemoryIdempotencyStore,
    InMemoryOrderStore,
    InMemoryProductStore,
)

from .conftest import make_products
from .store_contract import IdempotencyStoreContract, OrderStoreContract, new_order


class TestInMemoryOrderStore(OrderStoreContract):
    @pytest.fixture
    def products(self):
        return InMemoryProductStore(make_products(stock=10))

    @pytest.fixture
    def orders(self, products):
        return InMemoryOrderStore(products)


class TestInMemoryIdempotencyStore(IdempotencyStoreContract):
    @pytest.fixture
    def idempotency(self):
        return InMemoryIdempotencyStore()


def test_idempotency_records_expire():
    now = [1000.0]
    store = InMemoryIdempotencyStore(ttl_seconds=10, in_flight_seconds=5, clock=lambda: now[0])
    assert store.begin("k", "fp") is None
    now[0] += 6  # the in-flight claim went stale: a retry may run
    assert store.begin("k", "fp") is None
    store.complete("k", 200, {})
    now[0] += 11
    assert store.begin("k", "other") is None


def test_product_store_lists_searches_and_updates(products):
    assert [p.product_id for p in products.list(limit=2)] == [1, 2]
    assert [p.product_id for p in products.list(after=1)] == [2, 3]
    found, total = products.search("SHOE")
    assert [p.product_id for p in found] == [1] and total == 1
    found, total = products.search("e", limit=1)
    assert len(found) == 1 and total == 3
    assert products.update(2, stock=50).stock == 50
    assert products.update(99, stock=1) is None
    assert set(products.get_many([1, 3, 99])) == {1, 3}


def test_publisher_records_encoded_events():
    publisher = InMemoryEventPublisher()
    event = OrderPlaced.from_order(new_order((1, 1), route=Route.LAMBDA))
    message_id = publisher.publish(event)
    (recorded_id, recorded, body, attributes) = publisher.published[0]
    assert recorded_id == message_id and recorded == event
    assert decode(body) == event
    assert attributes["route"]["StringValue"] == "lambda"
    publisher.fail_with = "down"
    with pytest.raises(PublishError):
        publisher.publish(event)
