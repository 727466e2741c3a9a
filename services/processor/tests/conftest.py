"""Fakes for the processor's unit tests: an in-memory queue and a gateway the test can hold."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest

from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
from flashsale.domain.model import Order, OrderItem, Product, Route
from flashsale.events import OrderPlaced, encode
from flashsale.services.payments import PaymentDeps
from flashsale_testing.memory import (
    InMemoryOrderStore,
    InMemoryPaymentLedger,
    InMemoryProductStore,
)
from order_processor.config import ProcessorConfig
from order_processor.queue import Message

WAIT = 5.0  # the deadline for anything a test waits on


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll `predicate` until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class FakeQueue:
    """A MessageQueue in memory; it records every call the worker makes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.available: deque[Message] = deque()
        self.asked: list[int] = []  # max_messages of every receive
        self.deleted: list[str] = []
        self.delete_calls = 0
        self.visibility: list[tuple[str, int]] = []
        self.extended: list[tuple[str, int]] = []
        self.on_delete: Callable[[str], None] | None = None

    def put(self, body: str, receive_count: int = 1) -> Message:
        message = Message(
            message_id=str(uuid.uuid4()),
            receipt_handle=f"rh-{uuid.uuid4().hex[:8]}",
            body=body,
            receive_count=receive_count,
        )
        with self._cond:
            self.available.append(message)
            self._cond.notify_all()
        return message

    def receive(
        self, max_messages: int, wait_seconds: int, visibility_timeout: int
    ) -> list[Message]:
        with self._cond:
            self.asked.append(max_messages)
            if not self.available:  # a (short) long poll
                self._cond.wait(0.05)
            batch = []
            while self.available and len(batch) < max_messages:
                batch.append(self.available.popleft())
            return batch

    def delete_many(self, receipt_handles: Sequence[str]) -> list[str]:
        self.delete_calls += 1
        for handle in receipt_handles:
            if self.on_delete:
                self.on_delete(handle)
            with self._cond:
                self.deleted.append(handle)
        return []

    def change_visibility(self, receipt_handle: str, timeout: int) -> None:
        with self._cond:
            self.visibility.append((receipt_handle, timeout))

    def extend(self, receipt_handles: Sequence[str], timeout: int) -> list[str]:
        with self._cond:
            self.extended.extend((handle, timeout) for handle in receipt_handles)
        return []


class HeldGateway:
    """Makes the simulated gateway's latency a gate the test opens; tracks concurrency."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls = 0

    def sleep(self, _seconds: float) -> None:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        try:
            if not self.gate.wait(WAIT):
                raise TimeoutError("the test never opened the gateway")
        finally:
            with self._lock:
                self.running -= 1


class World:
    """Stores, ledger and gateway wired like bootstrap.payment_deps does, in memory."""

    def __init__(self, gateway_concurrency: int = 10, error_rate: float = 0.0) -> None:
        self.products = InMemoryProductStore(
            [Product(product_id=1, name="Widget", price=Decimal("9.99"), stock=1000)]
        )
        self.orders = InMemoryOrderStore(self.products)
        self.ledger = InMemoryPaymentLedger()
        self.held = HeldGateway()
        self.gateway = SimulatedPaymentGateway(
            self.ledger,
            latency=0,
            concurrency=gateway_concurrency,
            error_rate=error_rate,
            sleep=self.held.sleep,
        )
        self.deps = PaymentDeps(orders=self.orders, gateway=self.gateway)

    def place(self, quantity: int = 1) -> tuple[Order, str]:
        """Place an order; returns it and the body of its OrderPlaced message."""
        order = Order.new(
            customer_id=7, items=[OrderItem(1, quantity, Decimal("9.99"))], route=Route.ECS
        )
        self.orders.place(order)
        body, _attributes = encode(OrderPlaced.from_order(order))
        return order, body


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def config() -> ProcessorConfig:
    return ProcessorConfig(
        queue_name="test-order-queue",
        dlq_name="test-order-dlq",
        concurrency=2,
        wait_time_seconds=0,
        visibility_timeout=30,
        heartbeat_interval=10,
        stop_timeout=WAIT,
    )
