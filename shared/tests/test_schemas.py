from decimal import Decimal

import pytest
from marshmallow import ValidationError

from flashsale.domain.model import Order, OrderItem, OrderLine, Route
from flashsale.schemas import (
    MAX_ITEMS,
    MAX_QUANTITY,
    OrderRequestSchema,
    ProductSchema,
    ProductUpdateSchema,
    dump_order,
)


def load(data):
    return OrderRequestSchema().load(data)


def test_seed_shape_loads():
    request = load({"customer_id": 123, "items": [{"product_id": 1, "quantity": 2}]})
    assert request.customer_id == 123
    assert request.items == (OrderLine(1, 2),)


def test_client_price_is_accepted_and_ignored():
    request = load({"customer_id": 1, "items": [{"product_id": 1, "quantity": 1, "price": 9.5}]})
    assert request.items == (OrderLine(1, 1),)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
        ({"customer_id": 0, "items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
        ({"customer_id": "7", "items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
        ({"customer_id": True, "items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
        ({"customer_id": 1, "items": []}, "items"),
        ({"customer_id": 1}, "items"),
        ({"customer_id": 1, "items": [{"product_id": 1, "quantity": 0}]}, "items"),
        ({"customer_id": 1, "items": [{"product_id": 1, "quantity": MAX_QUANTITY + 1}]}, "items"),
        ({"customer_id": 1, "items": [{"product_id": 1.5, "quantity": 1}]}, "items"),
        ({"customer_id": 1, "items": [{"product_id": 1, "quantity": 1, "x": 1}]}, "items"),
        ({"customer_id": 1, "items": [{"product_id": 1, "quantity": 1}], "extra": 1}, "extra"),
    ],
)
def test_invalid_requests_name_the_field(data, field):
    with pytest.raises(ValidationError) as info:
        load(data)
    assert field in info.value.messages


def test_item_count_limit():
    items = [{"product_id": 1, "quantity": 1}] * MAX_ITEMS
    assert len(load({"customer_id": 1, "items": items}).items) == MAX_ITEMS
    with pytest.raises(ValidationError):
        load({"customer_id": 1, "items": [*items, {"product_id": 1, "quantity": 1}]})


def test_order_dump_is_json_ready():
    order = Order.new(5, [OrderItem(1, 2, Decimal("19.99"))], Route.LAMBDA)
    data = dump_order(order)
    assert data["status"] == "pending"
    assert data["route"] == "lambda"
    assert data["total"] == pytest.approx(39.98)
    assert data["items"] == [{"product_id": 1, "quantity": 2, "unit_price": 19.99}]
    assert "completed_at" not in data


def test_product_schema_round_trip():
    product = ProductSchema().load({"product_id": 3, "name": "Hat", "price": 5.5, "stock": 10})
    assert product.price == Decimal("5.50")
    dumped = ProductSchema().dump(product)
    assert dumped["price"] == 5.5
    assert dumped["stock"] == 10


def test_product_update_is_partial_but_not_empty():
    assert ProductUpdateSchema().load({"stock": 5}) == {"stock": 5}
    with pytest.raises(ValidationError):
        ProductUpdateSchema().load({})
    with pytest.raises(ValidationError):
        ProductUpdateSchema().load({"stock": -1})
    with pytest.raises(ValidationError):
        ProductUpdateSchema().load({"product_id": 9})


def test_a_negative_price_that_rounds_to_zero_is_refused():
    from marshmallow import ValidationError

    from flashsale.schemas import ProductUpdateSchema

    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        ProductUpdateSchema().load({"price": "-0.004"})
    assert ProductUpdateSchema().load({"price": "0.004"})["price"] == 0
