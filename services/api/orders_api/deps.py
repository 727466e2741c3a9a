"""What the app needs from the outside world, bundled so tests can hand in fakes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from flashsale.ports import EventPublisher, IdempotencyStore, OrderStore, ProductStore
from flashsale.services.payments import PaymentDeps
from flashsale.services.reservations import Reserver
from flashsale.settings import Settings


class ReadinessProbe(Protocol):
    def check(self) -> Mapping[str, str | None]:
        """Each dependency's name mapped to None when it is usable, or to what is wrong."""
        ...


@dataclass(frozen=True)
class ApiDeps:
    settings: Settings
    orders: OrderStore
    reserver: Reserver
    products: ProductStore
    publisher: EventPublisher
    idempotency: IdempotencyStore
    payment: PaymentDeps
    readiness: ReadinessProbe
