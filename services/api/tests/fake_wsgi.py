"""A WSGI module for the gunicorn test: the real app factory over in-memory fakes."""

from __future__ import annotations

from decimal import Decimal

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


class _Ready:
    def check(self) -> dict[str, str | None]:
        return {"fake": None}


_products = InMemoryProductStore([Product(1, "Alpha", Decimal("2.50"), 100)])
_orders = InMemoryOrderStore(_products)
_gateway = SimulatedPaymentGateway(InMemoryPaymentLedger(), latency=0)
app = create_app(
    ApiDeps(
        settings=Settings(),
        orders=_orders,
        reserver=Reserver(InMemoryReservationStore(_orders)),
        products=_products,
        publisher=InMemoryEventPublisher(),
        idempotency=InMemoryIdempotencyStore(),
        payment=PaymentDeps(_orders, _gateway),
        readiness=_Ready(),
    )
)
