"""aws clients, bootstrap wiring, the catalog generator and the tracing helpers."""

from __future__ import annotations

import os
import random
from decimal import Decimal

import pytest

from flashsale import aws, bootstrap, catalog, tracing
from flashsale.adapters.dynamodb import DynamoDbOrderStore
from flashsale.adapters.sns import BatchingSnsPublisher, SnsEventPublisher
from flashsale.domain.model import Order, OrderItem, OrderStatus, Route
from flashsale.services.payments import process_payment
from flashsale.settings import Settings

from .moto_support import dynamodb_with_tables, moto_aws


@pytest.fixture(autouse=True)
def fresh_caches():
    bootstrap.reset()
    tracing.reset()
    yield
    bootstrap.reset()
    tracing.reset()


def test_clients_are_cached_and_routed():
    settings = Settings.from_env(
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2",
        }
    )
    dynamodb = aws.client("dynamodb", settings)
    assert aws.client("dynamodb", settings) is dynamodb
    assert dynamodb.meta.endpoint_url == "http://127.0.0.1:2"
    assert aws.client("sns", settings).meta.endpoint_url == "http://127.0.0.1:1"
    assert dynamodb.meta.config.max_pool_connections == settings.aws_max_pool_connections
    assert aws.session(settings) is aws.session(settings)


def test_bootstrap_wires_a_working_payment_flow():
    with moto_aws():
        dynamodb_with_tables()
        settings = Settings.from_env(
            {"ENV_NAME": "test", "PAYMENT_LATENCY_SECONDS": "0", "PAYMENT_CONCURRENCY": "3"}
        )
        products = bootstrap.product_store(settings)
        products.seed(catalog.generate(count=5, stock=10))
        deps = bootstrap.payment_deps(settings)
        assert isinstance(deps.orders, DynamoDbOrderStore)
        assert deps.gateway is bootstrap.gateway(settings)
        assert deps.gateway.concurrency == 3
        order = Order.new(1, [OrderItem(2, 2, products.get(2).price)], Route.SYNC)
        bootstrap.order_store(settings).place(order)
        outcome = process_payment(order.order_id, deps)
        assert outcome.status is OrderStatus.COMPLETED
        assert len(bootstrap.payment_ledger(settings).charges(order.order_id)) == 1
        assert products.get(2).stock == 8


def test_publisher_choice_follows_settings():
    base = {"ENV_NAME": "test", "AWS_ACCOUNT_ID": "000000000000"}
    assert isinstance(bootstrap.publisher(Settings.from_env(base)), BatchingSnsPublisher)
    unbatched = Settings.from_env({**base, "PUBLISH_BATCHING": "false"})
    assert isinstance(bootstrap.publisher(unbatched), SnsEventPublisher)
    with pytest.raises(ValueError):
        bootstrap.publisher(Settings.from_env({"ENV_NAME": "test"}))


def test_catalog_is_deterministic_and_deep():
    products = catalog.generate()
    assert [p.product_id for p in products] == list(range(1, 1001))
    assert all(p.stock == 1_000_000 for p in products)
    assert all(Decimal("1") <= p.price <= Decimal("400") for p in products)
    assert len({p.category for p in products}) == len(catalog.CATEGORIES)
    assert catalog.generate(count=20, seed=5) == catalog.generate(count=20, seed=5)
    assert catalog.generate(count=20, seed=5) != catalog.generate(count=20, seed=6)


def test_catalog_command_seeds_the_products_table(capsys, monkeypatch):
    with moto_aws():
        dynamodb_with_tables()
        monkeypatch.setitem(os.environ, "ENV_NAME", "test")
        assert catalog.main(["--count", "30", "--stock", "7"]) == 0
        assert "seeded 30 products into test-products" in capsys.readouterr().out
        store = bootstrap.product_store(Settings.from_env())
        assert len(store.list(limit=100)) == 30
        assert store.get(30).stock == 7


def test_tracing_is_a_no_op_when_disabled(monkeypatch):
    monkeypatch.delenv("AWS_XRAY_SDK_ENABLED", raising=False)
    assert not tracing.configure(Settings.from_env({}))
    with tracing.segment("s") as seg, tracing.subsegment("sub", order_id="o1") as sub:
        tracing.annotate(route="ecs")
    assert seg is None and sub is None

    @tracing.capture()
    def double(x: int) -> int:
        return 2 * x

    assert double(4) == 8


@pytest.fixture
def xray_sdk_on(monkeypatch):
    """Other suites (Powertools with tracing off) may have switched the SDK off process-wide."""
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core import xray_recorder

    monkeypatch.delenv("AWS_XRAY_SDK_ENABLED", raising=False)
    was_enabled = global_sdk_config.sdk_enabled()
    service, missing = xray_recorder.service, xray_recorder.context.context_missing
    global_sdk_config.set_sdk_enabled(True)
    yield
    global_sdk_config.set_sdk_enabled(was_enabled)
    xray_recorder.configure(service=service, context_missing=missing)


@pytest.mark.usefixtures("xray_sdk_on")
def test_tracing_records_segments_when_enabled(monkeypatch):
    from aws_xray_sdk.core import xray_recorder

    sent = []
    monkeypatch.setattr(xray_recorder, "emitter", type("E", (), {"send_entity": sent.append})())
    settings = Settings.from_env({"AWS_XRAY_SDK_ENABLED": "true", "SERVICE_NAME": "svc"})
    assert tracing.configure(settings, patch=False)
    with tracing.segment("processor", worker="1"):
        with tracing.subsegment("payment", order_id="o1"):
            tracing.annotate(route="ecs")
        with pytest.raises(RuntimeError), tracing.subsegment("boom"):
            raise RuntimeError("declined")
    (segment,) = sent
    assert segment.name == "processor"
    assert segment.annotations == {"worker": "1"}
    payment, boom = segment.subsegments
    assert payment.annotations == {"order_id": "o1", "route": "ecs"}
    assert boom.fault or boom.error
    # outside any segment the helpers neither fail nor record
    with tracing.subsegment("orphan") as orphan:
        tracing.annotate(x=1)
    assert orphan is None


def test_gateway_randomness_is_injectable():
    from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
    from flashsale_testing.memory import InMemoryPaymentLedger

    def outcomes(seed: int) -> list[str]:
        gateway = SimulatedPaymentGateway(
            InMemoryPaymentLedger(), latency=0, decline_rate=0.5, rng=random.Random(seed)
        )
        return [gateway.charge(f"o{i}", Decimal(1), 1).status for i in range(20)]

    assert outcomes(1) == outcomes(1)
    assert set(outcomes(1)) == {"approved", "declined"}
