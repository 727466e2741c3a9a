"""What the sweeper reads besides the orders (`DynamoDbOrderStore.undecided`): the route queues."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flashsale.domain.model import Route
from flashsale.settings import Settings
from order_processor.sweeper import QueueState

_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


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
