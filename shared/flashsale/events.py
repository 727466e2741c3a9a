"""The OrderPlaced event and its wire format: a versioned JSON envelope plus SNS/SQS attributes.

Body: {"version": 1, "event_type": "OrderPlaced", "event_id", "occurred_at",
       "data": {"order_id", "customer_id", "items": [{"product_id", "quantity", "unit_price"}],
                "total", "route"}}
Money travels as decimal strings so no float rounding creeps in. An X-Ray trace header, when the
publisher traces, travels beside the body as the `trace_header` message attribute (SNS raw
delivery copies it to SQS), so consumers continue the order's trace.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from flashsale.domain.model import Order, OrderItem, PaymentTerms, Route, utc_now

EVENT_TYPE = "OrderPlaced"
#: Message attribute holding the publisher's X-Ray trace header (`Root=...;Parent=...;Sampled=1`).
TRACE_HEADER_ATTRIBUTE = "trace_header"


class InvalidEvent(ValueError):
    """The message cannot be understood; retrying will not help (a poison message)."""


@dataclass(frozen=True)
class OrderPlaced:
    VERSION: ClassVar[int] = 1

    order_id: str
    customer_id: int
    items: tuple[OrderItem, ...]
    total: Decimal
    route: Route
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: str = field(default_factory=utc_now)
    #: Not part of the body: sent as the TRACE_HEADER_ATTRIBUTE message attribute.
    trace_header: str | None = field(default=None, compare=False)

    @property
    def terms(self) -> PaymentTerms:
        return PaymentTerms(self.customer_id, self.total)

    @classmethod
    def from_order(cls, order: Order) -> OrderPlaced:
        return cls(
            order_id=order.order_id,
            customer_id=order.customer_id,
            items=tuple(order.items),
            total=order.total,
            route=order.route,
        )


def message_attributes(
    route: Route | str, trace_header: str | None = None
) -> dict[str, dict[str, str]]:
    """SNS MessageAttributes (same shape SQS uses) the filter policies route on."""
    attributes = {
        "route": {"DataType": "String", "StringValue": str(Route(route))},
        "event_type": {"DataType": "String", "StringValue": EVENT_TYPE},
    }
    if trace_header:
        attributes[TRACE_HEADER_ATTRIBUTE] = {"DataType": "String", "StringValue": trace_header}
    return attributes


def encode(event: OrderPlaced) -> tuple[str, dict[str, dict[str, str]]]:
    body = {
        "version": OrderPlaced.VERSION,
        "event_type": EVENT_TYPE,
        "event_id": event.event_id,
        "occurred_at": event.occurred_at,
        "data": {
            "order_id": event.order_id,
            "customer_id": event.customer_id,
            "items": [
                {
                    "product_id": item.product_id,
                    "quantity": item.quantity,
                    "unit_price": str(item.unit_price),
                }
                for item in event.items
            ],
            "total": str(event.total),
            "route": str(event.route),
        },
    }
    attributes = message_attributes(event.route, event.trace_header)
    return json.dumps(body, separators=(",", ":")), attributes


def _require(mapping: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = mapping.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidEvent(f"field {key!r} missing or not {kind}")
    return value


def _decimal(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidEvent(f"field {key!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidEvent(f"field {key!r} is not a number") from exc
    if not number.is_finite():
        raise InvalidEvent(f"field {key!r} is not finite")
    return number


def decode(body: str | bytes) -> OrderPlaced:
    """Parse a message body; raises InvalidEvent for anything that is not a v1 OrderPlaced."""
    try:
        envelope = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"body is not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise InvalidEvent("body is not a JSON object")
    if envelope.get("event_type") != EVENT_TYPE:
        raise InvalidEvent(f"unexpected event_type {envelope.get('event_type')!r}")
    if envelope.get("version") != OrderPlaced.VERSION:
        raise InvalidEvent(f"unsupported version {envelope.get('version')!r}")
    data = _require(envelope, "data", dict)
    raw_items = _require(data, "items", list)
    if not raw_items:
        raise InvalidEvent("an OrderPlaced event needs items")
    items = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            raise InvalidEvent("items must be objects")
        quantity = _require(raw, "quantity", int)
        if quantity < 1:
            raise InvalidEvent("item quantity must be positive")
        items.append(
            OrderItem(
                product_id=_require(raw, "product_id", int),
                quantity=quantity,
                unit_price=_decimal(raw.get("unit_price"), "unit_price"),
            )
        )
    try:
        route = Route(data.get("route"))
    except ValueError as exc:
        raise InvalidEvent(f"unknown route {data.get('route')!r}") from exc
    return OrderPlaced(
        order_id=_require(data, "order_id", str),
        customer_id=_require(data, "customer_id", int),
        items=tuple(items),
        total=_decimal(data.get("total"), "total"),
        route=route,
        event_id=_require(envelope, "event_id", str),
        occurred_at=_require(envelope, "occurred_at", str),
    )
