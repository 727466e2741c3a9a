"""Fakes for the payment Lambda's unit tests: in-memory stores behind runtime.deps_factory."""

from __future__ import annotations

import io
import json
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
from flashsale.domain.model import Charge, Order, OrderItem, Product, Route
from flashsale.events import OrderPlaced, encode
from flashsale.ports import GatewayError
from flashsale.services.payments import PaymentDeps
from flashsale_testing.memory import (
    InMemoryOrderStore,
    InMemoryPaymentLedger,
    InMemoryProductStore,
)
from payment_fn import handler, runtime
from payment_fn.observability import logger


@dataclass
class FakeContext:
    function_name: str = "test-payment-fn"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:test-payment-fn"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class FlakyGateway:
    """Wraps the simulated gateway: orders in `failing` raise a transient GatewayError."""

    def __init__(self, inner: SimulatedPaymentGateway):
        self.inner = inner
        self.failing: set[str] = set()

    def charge(
        self, order_id: str, amount: Decimal, customer_id: int, idempotency_key: str | None = None
    ) -> Charge:
        if order_id in self.failing:
            raise GatewayError("simulated outage")
        return self.inner.charge(order_id, amount, customer_id, idempotency_key)

    def lookup(self, order_id: str, idempotency_key: str) -> Charge | None:
        return self.inner.lookup(order_id, idempotency_key)


class PeakTracker:
    """The gateway's `sleep`: records how many payments overlap, waiting briefly for company."""

    def __init__(self, expected_peak: int):
        self.expected_peak = expected_peak
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.reached = threading.Event()

    def __call__(self, _seconds: float) -> None:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            if self.running >= self.expected_peak:
                self.reached.set()
        self.reached.wait(2.0)
        with self.lock:
            self.running -= 1


class World:
    def __init__(self, sleep=None) -> None:
        self.products = InMemoryProductStore(
            [Product(product_id=1, name="Widget", price=Decimal("5.00"), stock=100)]
        )
        self.orders = InMemoryOrderStore(self.products)
        self.ledger = InMemoryPaymentLedger()
        self.gateway = FlakyGateway(
            SimulatedPaymentGateway(
                self.ledger, latency=0, concurrency=8, sleep=sleep or (lambda _s: None)
            )
        )
        self.deps = PaymentDeps(orders=self.orders, gateway=self.gateway)

    def place(self, quantity: int = 1) -> tuple[Order, str]:
        items = [OrderItem(1, quantity, Decimal("5.00"))]
        order = Order.new(customer_id=3, items=items, route=Route.LAMBDA)
        self.orders.place(order)
        body, _ = encode(OrderPlaced.from_order(order))
        return order, body


def sqs_event(*bodies: str) -> tuple[dict[str, Any], list[str]]:
    ids = [str(uuid.uuid4()) for _ in bodies]
    records = [
        {
            "messageId": message_id,
            "receiptHandle": f"rh-{message_id}",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {
                "route": {"stringValue": "lambda", "dataType": "String"},
            },
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:test-payment-queue",
            "awsRegion": "us-east-1",
        }
        for message_id, body in zip(ids, bodies, strict=True)
    ]
    return {"Records": records}, ids


def sns_event(body: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:000000000000:test-order-events:x",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": "arn:aws:sns:us-east-1:000000000000:test-order-events",
                    "Message": body,
                    "MessageAttributes": {"route": {"Type": "String", "Value": "lambda"}},
                },
            }
        ]
    }


def emitted(output: str) -> list[dict[str, Any]]:
    """The JSON lines a test run printed (Powertools logs and EMF metrics)."""
    lines = []
    for line in output.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


@pytest.fixture
def install(monkeypatch):
    """Wire the handler to a World: `install(world, concurrency=1)`."""

    def _install(world: World, concurrency: int = 1) -> World:
        monkeypatch.setenv("PAYMENT_CONCURRENCY", str(concurrency))
        monkeypatch.setattr(runtime, "deps_factory", lambda _settings: world.deps)
        runtime.reset()
        return world

    yield _install
    runtime.reset()


@pytest.fixture(autouse=True)
def no_idempotency_store(monkeypatch):
    """Unit tests run without the DynamoDB-backed idempotency layer (one moto test turns it on)."""
    monkeypatch.setenv("POWERTOOLS_IDEMPOTENCY_DISABLED", "1")


@pytest.fixture
def log_stream():
    """What the Powertools Logger writes (it keeps the stdout it was created with)."""
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    yield stream
    logger.registered_handler.setStream(previous)


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def warm(monkeypatch):
    monkeypatch.setattr(handler, "_cold", False)
