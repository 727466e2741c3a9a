"""Fixtures for the shared package's unit tests: in-memory stores and a catalog."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashsale.domain.model import Product
from flashsale_testing.memory import (
    InMemoryOrderStore,
    InMemoryPaymentLedger,
    InMemoryProductStore,
)


def make_products(stock: int = 10) -> list[Product]:
    return [
        Product(1, "Red Shoe", Decimal("19.99"), stock, "shoes", "a red running shoe"),
        Product(2, "Blue Hat", Decimal("5.00"), stock, "hats"),
        Product(3, "Green Scarf", Decimal("12.50"), stock, "scarves"),
    ]


@pytest.fixture
def products() -> InMemoryProductStore:
    return InMemoryProductStore(make_products())


@pytest.fixture
def orders(products: InMemoryProductStore) -> InMemoryOrderStore:
    return InMemoryOrderStore(products)


@pytest.fixture
def ledger() -> InMemoryPaymentLedger:
    return InMemoryPaymentLedger()
