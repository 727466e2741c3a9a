"""The API over the shared in-memory fakes: no network, no sleeping gateway."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
from flashsale.domain.model import Product
from flashsale.services.payments import PaymentDeps
from flashsale.services.reservations import Reserver
from flashsale.settings import Settings
from flashsale_testing.memory import (
    InMemoryEventPublisher,
    InMemoryIdempotencyStore,
    InMemoryOrderStore,
    InMemoryPaymentLedger,
    InMemoryProductStore,
    InMemoryReservationStore,
)
from orders_api import ApiDeps, create_app

ADMIN_KEY = "test-admin-key"


@dataclass
class FakeReadiness:
    problems: dict[str, str | None] = field(
        default_factory=lambda: {"orders_table": None, "order_topic": None}
    )

    def check(self) -> Mapping[str, str | None]:
        return self.problems


@dataclass
class World:
    """Everything the app was built from, so tests can arrange and inspect state."""

    settings: Settings
    products: InMemoryProductStore
    orders: InMemoryOrderStore
    publisher: InMemoryEventPublisher
    idempotency: InMemoryIdempotencyStore
    ledger: InMemoryPaymentLedger
    gateway: SimulatedPaymentGateway
    readiness: FakeReadiness

    def deps(self) -> ApiDeps:
        return ApiDeps(
            settings=self.settings,
            orders=self.orders,
            reserver=Reserver(InMemoryReservationStore(self.orders)),
            products=self.products,
            publisher=self.publisher,
            idempotency=self.idempotency,
            payment=PaymentDeps(orders=self.orders, gateway=self.gateway),
            readiness=self.readiness,
        )

    def stock(self, product_id: int) -> int:
        product = self.products.get(product_id)
        assert product is not None
        return product.stock


def catalog() -> list[Product]:
    return [
        Product(1, "Alpha Phone", Decimal("199.99"), 10, "Electronics", "a phone"),
        Product(2, "Beta Book", Decimal("12.50"), 2, "Books", "a book"),
        Product(3, "Gamma Mug", Decimal("8.00"), 0, "Kitchen", "sold out mug"),
    ] + [Product(100 + i, f"Widget {i}", Decimal("1.00"), 5, "Widgets") for i in range(30)]


@pytest.fixture
def settings() -> Settings:
    return Settings(admin_api_key=ADMIN_KEY, default_route="ecs", payment_latency_seconds=0)


def memory_world(settings: Settings, products: list[Product]) -> World:
    """The app's dependencies over in-memory fakes (also what fake_wsgi serves)."""
    store = InMemoryProductStore(products)
    ledger = InMemoryPaymentLedger()
    return World(
        settings=settings,
        products=store,
        orders=InMemoryOrderStore(store),
        publisher=InMemoryEventPublisher(),
        idempotency=InMemoryIdempotencyStore(),
        ledger=ledger,
        gateway=SimulatedPaymentGateway(ledger, latency=0, rng=random.Random(7)),
        readiness=FakeReadiness(),
    )


@pytest.fixture
def world(settings: Settings) -> World:
    return memory_world(settings, catalog())


@pytest.fixture
def app(world: World) -> Flask:
    return create_app(world.deps())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def order_body(product_id: int = 1, quantity: int = 2, customer_id: int = 123) -> dict:
    return {"customer_id": customer_id, "items": [{"product_id": product_id, "quantity": quantity}]}


def check_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is the API's JSON error envelope with this status (and code/field)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) <= {"code", "message", "field"} and error["message"]
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert error.get("field") == field
    return error


# Test modules are imported without a package, so helpers travel as fixtures.
@pytest.fixture(name="order_body")
def _order_body():
    return order_body


@pytest.fixture(name="assert_error")
def _assert_error():
    return check_error
