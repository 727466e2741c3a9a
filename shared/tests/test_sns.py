"""The SNS publishers against moto: attributes, filter-policy routing, batching."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import boto3
import pytest

from flashsale.adapters.sns import BatchingSnsPublisher, SnsEventPublisher
from flashsale.domain.model import Order, OrderItem, Route
from flashsale.events import OrderPlaced, decode
from flashsale.ports import PublishError
from flashsale_testing.messaging import subscribe_route_queue

from .moto_support import REGION, moto_aws


def event(route: Route = Route.ECS) -> OrderPlaced:
    return OrderPlaced.from_order(Order.new(1, [OrderItem(1, 1, Decimal("2.00"))], route))


@pytest.fixture
def aws():
    """A topic with one raw-delivery queue per route, filtered like the real subscriptions."""
    with moto_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic_arn = sns.create_topic(Name="test-order-events")["TopicArn"]
        queues = {
            route: subscribe_route_queue(sns, sqs, topic_arn, f"test-{route}", route)
            for route in ("ecs", "lambda")
        }
        yield sns, sqs, topic_arn, queues


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_publish_routes_by_attribute(aws):
    sns, sqs, topic_arn, queues = aws
    publisher = SnsEventPublisher(sns, topic_arn)
    ecs_event, lambda_event = event(Route.ECS), event(Route.LAMBDA)
    assert publisher.publish(ecs_event)
    publisher.publish(lambda_event)
    (ecs_message,) = drain(sqs, queues["ecs"])
    (lambda_message,) = drain(sqs, queues["lambda"])
    assert decode(ecs_message["Body"]) == ecs_event
    assert decode(lambda_message["Body"]) == lambda_event
    assert ecs_message["MessageAttributes"]["route"]["StringValue"] == "ecs"
    assert ecs_message["MessageAttributes"]["event_type"]["StringValue"] == "OrderPlaced"


def test_publish_failure_is_a_publish_error(aws):
    sns, _, topic_arn, _ = aws
    publisher = SnsEventPublisher(sns, topic_arn.replace("test-order-events", "missing"))
    with pytest.raises(PublishError):
        publisher.publish(event())


class CountingClient:
    """Wraps the SNS client to record the size of every PublishBatch call."""

    def __init__(self, client: Any):
        self._client = client
        self.batch_sizes: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def publish_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.gate.wait(10)
        self.batch_sizes.append(len(kwargs["PublishBatchRequestEntries"]))
        return self._client.publish_batch(**kwargs)


def test_batching_publisher_gives_each_caller_its_own_message_id(aws):
    sns, sqs, topic_arn, queues = aws
    client = CountingClient(sns)
    client.gate.clear()  # hold the first batch so the others pile up behind it
    publisher = BatchingSnsPublisher(client, topic_arn, senders=1)
    events = [event(Route.ECS if i % 2 else Route.LAMBDA) for i in range(25)]
    results: dict[str, str] = {}

    def publish(e: OrderPlaced) -> None:
        results[e.order_id] = publisher.publish(e)

    threads = [threading.Thread(target=publish, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    client.gate.set()
    for thread in threads:
        thread.join(10)
    publisher.close()
    assert len(results) == 25 and len(set(results.values())) == 25
    assert sum(client.batch_sizes) == 25
    assert max(client.batch_sizes) <= 10
    assert len(client.batch_sizes) < 25  # some calls carried several events
    received = {
        route: [decode(m["Body"]) for m in drain(sqs, url)] for route, url in queues.items()
    }
    assert sorted(e.order_id for batch in received.values() for e in batch) == sorted(results)
    assert len(received["ecs"]) == 12
    assert all(e.route is Route.ECS for e in received["ecs"])


def test_batching_publisher_reports_failures_to_each_caller(aws):
    sns, _, topic_arn, _ = aws
    publisher = BatchingSnsPublisher(sns, topic_arn.replace("test-order-events", "missing"))
    with pytest.raises(PublishError):
        publisher.publish(event())
    publisher.close()


def test_batching_publisher_reports_per_entry_failures():
    class PartialClient:
        def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list) -> dict:
            return {
                "Successful": [],
                "Failed": [
                    {"Id": e["Id"], "Code": "InternalError", "SenderFault": False}
                    for e in PublishBatchRequestEntries
                ],
            }

    publisher = BatchingSnsPublisher(PartialClient(), "arn:aws:sns:us-east-1:0:t", senders=1)
    with pytest.raises(PublishError, match="InternalError"):
        publisher.publish(event())
    publisher.close()
    with pytest.raises(PublishError, match="closed"):
        publisher.publish(event())
