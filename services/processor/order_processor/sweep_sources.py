"""What the sweeper reads: undecided orders (a filtered DynamoDB scan) and the route queues.

The orders table has no index on status, so finding undecided orders is a scan: paged, with
the filter applied server-side. On AWS, with a large table, a sparse index on undecided orders
would make each sweep cheap; the scan keeps the local stack free of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flashsale.adapters.dynamodb.codec import item_to_order, value
from flashsale.domain.model import Order, OrderStatus, Route
from flashsale.settings import Settings
from order_processor.sweeper import QueueState

SCAN_PAGE = 500
_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


class DynamoDbUndecidedOrders:
    def __init__(self, client: Any, table: str, page_size: int = SCAN_PAGE):
        self._client = client
        self.table = table
        self.page_size = page_size

    def undecided(self, routes: Iterable[Route]) -> Iterator[Order]:
        wanted = sorted(str(Route(r)) for r in routes)
        if not wanted:
            return
        values = {
            ":pending": value(str(OrderStatus.PENDING)),
            ":processing": value(str(OrderStatus.PROCESSING)),
            **{f":r{i}": value(route) for i, route in enumerate(wanted)},
        }
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "#status IN (:pending, :processing) AND #route IN ({})".format(
                ", ".join(f":r{i}" for i in range(len(wanted)))
            ),
            "ExpressionAttributeNames": {"#status": "status", "#route": "route"},
            "ExpressionAttributeValues": values,
            "Limit": self.page_size,
            "ConsistentRead": True,
        }
        while True:
            page = self._client.scan(**kwargs)
            for item in page.get("Items", []):
                yield item_to_order(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class SqsRouteQueues:
    """Each async route's queue, by URL from Settings (or looked up by name)."""

    def __init__(self, client: Any, urls: dict[Route, str | None], names: dict[Route, str]):
        self._client = client
        self._urls = dict(urls)
        self._names = names

    @classmethod
    def from_settings(cls, client: Any, settings: Settings) -> SqsRouteQueues:
        env = settings.env_name
        return cls(
            client,
            {Route.ECS: settings.order_queue_url, Route.LAMBDA: settings.payment_queue_url},
            {Route.ECS: f"{env}-order-queue", Route.LAMBDA: f"{env}-payment-queue"},
        )

    def state(self, route: Route) -> QueueState:
        url = self._urls.get(route)
        if not url:
            url = self._client.get_queue_url(QueueName=self._names[route])["QueueUrl"]
            self._urls[route] = url
        attributes = self._client.get_queue_attributes(
            QueueUrl=url, AttributeNames=[*_COUNTS, "CreatedTimestamp"]
        )["Attributes"]
        return QueueState(
            messages=sum(int(attributes.get(name, 0)) for name in _COUNTS),
            created_at=datetime.fromtimestamp(float(attributes["CreatedTimestamp"]), UTC),
        )
