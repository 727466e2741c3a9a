"""Conversions between domain objects and DynamoDB's attribute-value JSON."""

from __future__ import annotations

import functools
from dataclasses import fields
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from flashsale.domain.model import (
    TRANSITION_FIELDS,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Route,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def serialize(values: dict[str, Any]) -> dict[str, Any]:
    """Python values -> attribute values, dropping None (DynamoDB has no 'unset' attribute)."""
    return {key: _serializer.serialize(value) for key, value in values.items() if value is not None}


def value(python_value: Any) -> dict[str, Any]:
    return _serializer.serialize(python_value)


def field_updates(
    fields: dict[str, Any],
) -> tuple[dict[str, str], dict[str, Any], list[str], list[str]]:
    """UpdateItem parts for `fields`: (names, values, SET clauses, REMOVE paths); None removes."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    removes: list[str] = []
    for index, (name, field_value) in enumerate(sorted(fields.items())):
        names[f"#f{index}"] = name
        if field_value is None:
            removes.append(f"#f{index}")
        else:
            values[f":f{index}"] = value(field_value)
            sets.append(f"#f{index} = :f{index}")
    return names, values, sets, removes


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(raw) for key, raw in item.items()}


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields by name (shallow: `asdict` deep-copies, at twice the cost)."""
    return {name: getattr(obj, name) for name in _names(type(obj))}


def order_to_item(order: Order) -> dict[str, Any]:
    return serialize(
        {
            **_fields(order),
            "items": [_fields(item) for item in order.items],
            "status": str(order.status),
            "route": str(order.route),
        }
    )


def item_to_order(item: dict[str, Any]) -> Order:
    data = deserialize(item)
    return Order(
        order_id=data["order_id"],
        customer_id=int(data["customer_id"]),
        items=[
            OrderItem(int(i["product_id"]), int(i["quantity"]), Decimal(i["unit_price"]))
            for i in data["items"]
        ],
        total=Decimal(data["total"]),
        status=OrderStatus(data["status"]),
        route=Route(data["route"]),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        **{field: data.get(field) for field in TRANSITION_FIELDS},
        stock_released=bool(data.get("stock_released", False)),
    )


def product_to_item(product: Product) -> dict[str, Any]:
    """A new product's item; `initial_stock` records the units it starts with (the audit's
    baseline: initial = stock + units held by orders that did not fail)."""
    return serialize({**_fields(product), "initial_stock": product.stock})


def item_to_product(item: dict[str, Any]) -> Product:
    data = deserialize(item)
    return Product(
        product_id=int(data["product_id"]),
        name=data.get("name", ""),
        price=Decimal(data.get("price", 0)),
        stock=int(data.get("stock", 0)),
        category=data.get("category"),
        description=data.get("description"),
    )
