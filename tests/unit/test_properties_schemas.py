"""Property-based tests of the shared schemas (flashsale.schemas): whatever JSON a client sends,
loading either yields a request that satisfies every documented bound or raises
ValidationError, never anything else; valid shapes always load; products round-trip."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from flashsale.domain.model import Order, OrderItem, OrderStatus, Product, Route
from flashsale.schemas import (
    MAX_ITEMS,
    MAX_NAME_LENGTH,
    MAX_QUANTITY,
    OrderRequest,
    OrderRequestSchema,
    ProductSchema,
    ProductUpdateSchema,
    dump_order,
)

CENT = Decimal("0.01")
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
ids = st.integers(min_value=1, max_value=10**12)
quantities = st.integers(min_value=1, max_value=MAX_QUANTITY)
client_prices = st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 10**6)


@st.composite
def valid_items(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"product_id": draw(ids), "quantity": draw(quantities)}
    if draw(st.booleans()):
        item["price"] = draw(client_prices)
    return item


valid_requests = st.fixed_dictionaries(
    {"customer_id": ids, "items": st.lists(valid_items(), min_size=1, max_size=MAX_ITEMS)}
)


def _mutations(request: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """One field of a valid request replaced by an arbitrary JSON value (or dropped)."""
    paths: list[tuple[Any, ...]] = [("customer_id",), ("items",)]
    for index, item in enumerate(request["items"]):
        paths += [("items", index, key) for key in item]
    return st.tuples(st.sampled_from(paths), json_values | st.just(...)).map(
        lambda change: _replace(request, *change)
    )


def _replace(request: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copy: Any = {
        "customer_id": request["customer_id"],
        "items": [dict(i) for i in request["items"]],
    }
    target = copy
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _acceptable(request: Any) -> bool:
    """The documented rules, written independently of the schema."""
    if not isinstance(request, dict) or set(request) != {"customer_id", "items"}:
        return False
    customer, items = request["customer_id"], request["items"]
    if not (_is_int(customer) and customer >= 1):
        return False
    if not (isinstance(items, list) and 1 <= len(items) <= MAX_ITEMS):
        return False
    for item in items:
        if not isinstance(item, dict) or not {"product_id", "quantity"} <= set(item):
            return False
        if not set(item) <= {"product_id", "quantity", "price"}:
            return False
        if not (_is_int(item["product_id"]) and item["product_id"] >= 1):
            return False
        if not (_is_int(item["quantity"]) and 1 <= item["quantity"] <= MAX_QUANTITY):
            return False
        price = item.get("price")
        if price is not None and (
            isinstance(price, bool)
            or not isinstance(price, int | float)
            or price != price
            or price in (float("inf"), float("-inf"))
        ):
            return False
    return True


# -- order requests --------------------------------------------------------------------------


@SETTINGS
@given(valid_requests)
def test_every_valid_order_request_loads_to_its_items(request: dict[str, Any]) -> None:
    loaded = OrderRequestSchema().load(request)
    assert isinstance(loaded, OrderRequest)
    assert loaded.customer_id == request["customer_id"]
    assert [(i.product_id, i.quantity) for i in loaded.items] == [
        (i["product_id"], i["quantity"]) for i in request["items"]
    ]
    totals: dict[int, int] = {}
    for item in request["items"]:
        totals[item["product_id"]] = totals.get(item["product_id"], 0) + item["quantity"]
    assert loaded.quantities() == totals


@SETTINGS
@given(json_values)
def test_any_json_is_rejected_with_a_validation_error_or_loaded_within_bounds(data: Any) -> None:
    _check_load(data)


@SETTINGS
@given(valid_requests.flatmap(_mutations))
def test_one_bad_field_is_caught_and_named(data: dict[str, Any]) -> None:
    _check_load(data)


def _check_load(data: Any) -> None:
    try:
        loaded = OrderRequestSchema().load(data)
    except ValidationError as exc:
        assert not _acceptable(data), f"valid request refused: {exc.messages}"
        assert exc.messages, "a refusal names what is wrong"
        return
    assert _acceptable(data), f"accepted {data!r}"
    assert loaded.customer_id >= 1 and 1 <= len(loaded.items) <= MAX_ITEMS
    assert all(1 <= i.quantity <= MAX_QUANTITY and i.product_id >= 1 for i in loaded.items)


# -- products --------------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
names = st.text(min_size=1, max_size=MAX_NAME_LENGTH)
products = st.builds(
    Product,
    product_id=ids,
    name=names,
    price=prices,
    stock=st.integers(min_value=0, max_value=10**9),
    category=st.none() | st.text(max_size=MAX_NAME_LENGTH),
    description=st.none() | st.text(max_size=300),
)


@SETTINGS
@given(products)
def test_a_product_round_trips_through_its_json_shape(product: Product) -> None:
    dumped = ProductSchema().dump(product)
    assert isinstance(dumped["price"], float)
    loaded = ProductSchema().load(dumped)
    assert loaded.product_id == product.product_id
    assert loaded.stock == product.stock
    assert loaded.price == product.price  # two places survive the float in the JSON
    assert (loaded.name, loaded.category, loaded.description) == (
        product.name,
        product.category,
        product.description,
    )


@SETTINGS
@given(json_values)
def test_product_schemas_refuse_garbage_with_validation_errors(data: Any) -> None:
    for schema in (ProductSchema(), ProductUpdateSchema()):
        try:
            loaded = schema.load(data)
        except ValidationError:
            continue
        if isinstance(schema, ProductUpdateSchema):
            assert isinstance(loaded, dict) and loaded
            assert set(loaded) <= {"name", "price", "stock", "category", "description"}
        else:
            assert isinstance(loaded, Product)


@SETTINGS
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**6), 10**6))
def test_a_price_is_accepted_only_when_finite_and_not_negative_at_two_places(
    price: float,
) -> None:
    rounded = _at_two_places(price)
    # negative input is refused even when it rounds to -0.00
    acceptable = rounded is not None and rounded >= 0 and not rounded.is_signed()
    try:
        loaded = ProductUpdateSchema().load({"price": price})
    except ValidationError as exc:
        assert not acceptable, f"price {price!r} refused: {exc.messages}"
        assert "price" in exc.messages
    else:
        assert acceptable, f"price {price!r} accepted as {loaded['price']!r}"
        assert loaded["price"] >= 0 and loaded["price"] == loaded["price"].quantize(CENT)


def _at_two_places(price: float) -> Decimal | None:
    """The price as the schema stores it; None when it has no such value (NaN, inf, huge)."""
    if isinstance(price, float) and not math.isfinite(price):
        return None
    try:
        return Decimal(str(price)).quantize(CENT)
    except InvalidOperation:  # more digits than the decimal context holds
        return None


# -- orders out ------------------------------------------------------------------------------

order_items = st.builds(OrderItem, product_id=ids, quantity=quantities, unit_price=prices)


@SETTINGS
@given(
    st.lists(order_items, min_size=1, max_size=5),
    st.sampled_from(list(Route)),
    st.sampled_from(list(OrderStatus)),
    ids,
)
def test_dumped_orders_are_json_with_numbers_and_no_unset_fields(
    items: list[OrderItem], route: Route, status: OrderStatus, customer: int
) -> None:
    order = Order.new(customer, items, route)
    order.status = status
    dumped = dump_order(order)
    assert None not in dumped.values()
    assert dumped["status"] == status.value and dumped["route"] == route.value
    assert Decimal(str(dumped["total"])) == pytest_approx_total(items)
    assert [i["quantity"] for i in dumped["items"]] == [i.quantity for i in items]


def pytest_approx_total(items: list[OrderItem]) -> Decimal:
    """The order total as the JSON float carries it (a float of the exact decimal sum)."""
    return Decimal(str(float(sum((i.subtotal for i in items), Decimal("0")))))
