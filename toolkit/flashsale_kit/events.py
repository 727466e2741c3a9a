"""OrderPlaced of an order read back from the API, published to the stack's topic as the API
does: what a redelivery or a duplicate message looks like to the consumers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flashsale.domain.model import OrderItem, Route
from flashsale.events import OrderPlaced, encode
from flashsale_kit.running import RunningStack


def order_placed(order: Mapping[str, Any], route: str | None = None) -> OrderPlaced:
    """The OrderPlaced event of an order as GET /orders/<id> shows it (route overridable)."""
    return OrderPlaced(
        order_id=order["order_id"],
        customer_id=order["customer_id"],
        items=tuple(
            OrderItem(item["product_id"], item["quantity"], Decimal(str(item["unit_price"])))
            for item in order["items"]
        ),
        total=Decimal(str(order["total"])),
        route=Route(route or order["route"]),
    )


def publish(stack: RunningStack, event: OrderPlaced) -> str:
    """Publish to the order topic exactly as the API does; the SNS message id."""
    body, attributes = encode(event)
    return stack.client("sns").publish(
        TopicArn=stack.settings.order_topic_arn, Message=body, MessageAttributes=attributes
    )["MessageId"]
