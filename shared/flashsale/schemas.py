"""marshmallow schemas: the one validation of an order request; JSON shapes of orders/products."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from flashsale.domain.model import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Route,
    total_quantities,
)

MAX_ITEMS = 50
MAX_QUANTITY = 1000
MAX_NAME_LENGTH = 200
MAX_TEXT_LENGTH = 2000


@dataclass(frozen=True)
class OrderRequest:
    """A validated order request; prices come from the catalog, not from the client."""

    customer_id: int
    items: tuple[OrderLine, ...]

    def quantities(self) -> dict[int, int]:
        return total_quantities(self.items)


#: ids at or beyond this cannot exist: refused before they reach a store (DynamoDB numbers
#: and the API's path converters both take them)
MAX_ENTITY_ID = 10**18


def _positive_int(**kwargs: Any) -> fields.Integer:
    """A customer or product id: positive and below MAX_ENTITY_ID."""
    return fields.Integer(
        strict=True,
        # inclusive bound, so the OpenAPI document states it exactly (`maximum`)
        validate=validate.Range(min=1, max=MAX_ENTITY_ID - 1),
        **kwargs,
    )


class OrderItemRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    product_id = _positive_int(required=True)
    quantity = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_QUANTITY)
    )
    # The original clients send the price they saw; it is accepted and ignored.
    price = fields.Float(load_default=None, allow_none=True, allow_nan=False)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> OrderLine:
        return OrderLine(product_id=data["product_id"], quantity=data["quantity"])


class OrderRequestSchema(Schema):
    """`{"customer_id": 123, "items": [{"product_id": 1, "quantity": 2}]}` -> OrderRequest."""

    class Meta:
        unknown = RAISE

    customer_id = _positive_int(required=True)
    items = fields.List(
        fields.Nested(OrderItemRequestSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_ITEMS),
    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> OrderRequest:
        return OrderRequest(customer_id=data["customer_id"], items=tuple(data["items"]))


def _non_negative_money(value: Decimal) -> None:
    """At least 0, once rounded to cents: -0.004 rounds to -0.00, which is still negative input."""
    if value < 0 or value.is_signed():
        raise ValidationError("must be greater than or equal to 0")


class _Money(fields.Decimal):
    """Decimal in, JSON number out (the original API returned prices as numbers)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else float(value)


class OrderItemSchema(Schema):
    product_id = fields.Integer()
    quantity = fields.Integer()
    unit_price = _Money()


class OrderSchema(Schema):
    """Dump-only shape of an order for API responses."""

    order_id = fields.String()
    customer_id = fields.Integer()
    items = fields.List(fields.Nested(OrderItemSchema))
    total = _Money()
    status = fields.Enum(OrderStatus, by_value=True)
    route = fields.Enum(Route, by_value=True)
    created_at = fields.String()
    updated_at = fields.String()
    processing_at = fields.String(allow_none=True)
    completed_at = fields.String(allow_none=True)
    failed_at = fields.String(allow_none=True)
    failure_reason = fields.String(allow_none=True)
    payment_id = fields.String(allow_none=True)


def dump_order(order: Order) -> dict[str, Any]:
    """An order as JSON-ready dict, without the optional fields that are unset."""
    data = OrderSchema().dump(order)
    return {key: value for key, value in data.items() if value is not None}


class ProductSchema(Schema):
    """Both the JSON shape of a product and the validation of a new one (admin put)."""

    class Meta:
        unknown = RAISE

    product_id = _positive_int(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    price = _Money(required=True, places=2, validate=_non_negative_money, allow_nan=False)
    stock = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    category = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_NAME_LENGTH)
    )
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT_LENGTH)
    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Product:
        return Product(**data)


class ProductUpdateSchema(Schema):
    """A partial product update; loads to a dict of the fields given (at least one)."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=MAX_NAME_LENGTH))
    price = fields.Decimal(places=2, validate=_non_negative_money, allow_nan=False)
    stock = fields.Integer(strict=True, validate=validate.Range(min=0))
    category = fields.String(allow_none=True, validate=validate.Length(max=MAX_NAME_LENGTH))
    description = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT_LENGTH))

    @validates_schema
    def require_something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("give at least one field to update")


__all__ = [
    "MAX_ITEMS",
    "MAX_QUANTITY",
    "OrderItemSchema",
    "OrderRequest",
    "OrderRequestSchema",
    "OrderSchema",
    "ProductSchema",
    "ProductUpdateSchema",
    "dump_order",
]
