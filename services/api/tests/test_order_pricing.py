"""Orders are priced from the process's cached prices, never from a stale one."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from flashsale.domain.reservation import PriceChanged
from orders_api import create_app


def test_a_price_changed_by_another_process_prices_the_next_order_anew(client, world, order_body):
    first = client.post("/orders/async", json=order_body(product_id=1, quantity=1))
    assert first.status_code == 202
    world.products.change_price_elsewhere(1, Decimal("150.25"))  # this process is not told

    second = client.post("/orders/async", json=order_body(product_id=1, quantity=2))

    assert second.status_code == 202
    order = world.orders.get(second.get_json()["order_id"])
    assert order.items[0].unit_price == Decimal("150.25") and order.total == Decimal("300.50")
    assert world.orders.get(first.get_json()["order_id"]).total == Decimal("199.99")
    assert world.stock(1) == 7


def test_a_price_that_keeps_changing_is_503_and_writes_nothing(world, order_body):
    class Unsettled:
        """Every write finds the cached price stale."""

        def place(self, order):
            raise PriceChanged(1)

    app = create_app(replace(world.deps(), reserver=Unsettled()))
    response = app.test_client().post("/orders/async", json=order_body(product_id=1))

    assert response.status_code == 503
    assert world.orders.all() == [] and world.stock(1) == 10
