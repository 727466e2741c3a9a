"""The sweeper's queue adapter and `order-processor sweep` against moto (in process): a pending
order whose message is gone is published again to the topic, and the filter policy routes it."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from flashsale import bootstrap
from flashsale.adapters.dynamodb import DynamoDbOrderStore, DynamoDbProductStore, create_tables
from flashsale.domain.model import Order, OrderItem, Product, Route
from flashsale.settings import Settings
from flashsale_testing.messaging import subscribe_route_queue
from order_processor.cli import main
from order_processor.sweep_sources import SqsRouteQueues

REGION = "us-east-1"
ACCOUNT = "123456789012"
ENV = {"ENV_NAME": "sweep", "AWS_REGION": REGION, "AWS_ACCOUNT_ID": ACCOUNT}


@pytest.fixture
def aws(monkeypatch):
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for key, value in {**ENV, "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PUBLISH_BATCHING", "false")
    bootstrap.reset()
    with mock_aws():
        yield Settings.from_env()
    bootstrap.reset()


@pytest.fixture
def pipeline(aws):
    """Tables, the topic and both queues subscribed with their route filter, like the stack."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    create_tables(ddb, aws)
    DynamoDbProductStore(ddb, aws.products_table).seed([Product(1, "Widget", Decimal("2.00"), 100)])
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name=f"{aws.env_name}-order-events")["TopicArn"]
    assert topic == aws.order_topic_arn
    urls = {
        route: subscribe_route_queue(sns, sqs, topic, f"{aws.env_name}-{name}", str(route))
        for route, name in ((Route.ECS, "order-queue"), (Route.LAMBDA, "payment-queue"))
    }
    return ddb, sqs, urls


def place(ddb, settings: Settings, route: Route, age: float = 0.0) -> Order:
    order = Order.new(7, [OrderItem(1, 1, Decimal("2.00"))], route)
    if age:
        when = time.time() - age
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when))
        order.created_at = order.updated_at = stamp
    DynamoDbOrderStore(ddb, settings.orders_table, settings.products_table).place(order)
    return order


def bodies(sqs, url: str) -> list[dict]:
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_queue_state_counts_every_message_and_knows_when_the_queue_was_made(aws, pipeline):
    _, sqs, urls = pipeline
    sqs.send_message(QueueUrl=urls[Route.ECS], MessageBody="a")
    sqs.send_message(QueueUrl=urls[Route.ECS], MessageBody="b")
    sqs.receive_message(QueueUrl=urls[Route.ECS], MaxNumberOfMessages=1)  # one in flight
    queues = SqsRouteQueues.from_settings(sqs, aws)
    state = queues.state(Route.ECS)
    assert state.messages == 2
    assert abs(state.created_at.timestamp() - time.time()) < 120
    assert queues.state(Route.LAMBDA).messages == 0


def test_sweep_command_republishes_a_lost_order_to_its_routes_queue(aws, pipeline, capsys):
    ddb, sqs, urls = pipeline
    lost_ecs = place(ddb, aws, Route.ECS, age=600)
    lost_lambda = place(ddb, aws, Route.LAMBDA, age=600)
    young = place(ddb, aws, Route.ECS)
    assert main(["sweep", "--older-than", "60"]) == 0
    out = capsys.readouterr().out
    assert "re-published 2 order(s)" in out
    assert [b["data"]["order_id"] for b in bodies(sqs, urls[Route.ECS])] == [lost_ecs.order_id]
    assert [b["data"]["order_id"] for b in bodies(sqs, urls[Route.LAMBDA])] == [
        lost_lambda.order_id
    ]
    assert young.order_id not in out


def test_dry_run_publishes_nothing(aws, pipeline, capsys):
    ddb, sqs, urls = pipeline
    older_than_its_queue = place(ddb, aws, Route.ECS, age=600)
    assert main(["sweep", "--older-than", "60", "--dry-run"]) == 0
    assert f"lost   {older_than_its_queue.order_id}" in capsys.readouterr().out
    assert bodies(sqs, urls[Route.ECS]) == []


def test_a_missing_queue_makes_the_sweep_fail_loudly(aws, capsys):
    assert main(["sweep"]) == 1
    assert "queue unreadable" in capsys.readouterr().err
