"""Powertools idempotency for real, against moto's DynamoDB: repeats are served from the store."""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from flashsale import aws
from flashsale.domain.model import OrderStatus
from payment_fn import handler, runtime

from .conftest import World, sns_event, sqs_event

TABLE = "test-idempotency"


class CountingOrders:
    """Counts how often the payment flow starts an order (each start is one payment attempt)."""

    def __init__(self, inner):
        self.inner = inner
        self.starts = 0

    def move(self, order_id, allowed_from, to, **fields):
        self.starts += 1
        return self.inner.move(order_id, allowed_from, to, **fields)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def dynamodb(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("POWERTOOLS_IDEMPOTENCY_DISABLED")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", TABLE)
    aws.reset()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
    aws.reset()


def test_a_redelivered_order_is_answered_from_the_idempotency_store(
    dynamodb, install, context, warm
):
    world = World()
    counting = CountingOrders(world.orders)
    world.deps.orders = counting
    install(world)
    order, body = world.place()

    [first] = handler.lambda_handler(sns_event(body), context)["results"]
    assert handler.lambda_handler(sqs_event(body)[0], context) == {"batchItemFailures": []}
    [second] = handler.lambda_handler(sns_event(body), context)["results"]  # and again

    assert (first["status"], first["charged"], first["duplicate"]) == ("completed", True, False)
    assert (second["status"], second["charged"], second["duplicate"]) == ("completed", False, True)
    assert counting.starts == 1  # the repeats never reached the payment flow
    assert len(world.ledger.charges(order.order_id)) == 1
    assert world.orders.get(order.order_id).status is OrderStatus.COMPLETED

    [item] = dynamodb.scan(TableName=TABLE)["Items"]
    assert item["id"]["S"].startswith(f"{runtime.IDEMPOTENCY_KEY_PREFIX}#")
    assert item["status"]["S"] == "COMPLETED"
    assert "expiration" in item


def test_a_failed_payment_leaves_no_record_so_the_retry_runs(dynamodb, install, context, warm):
    world = install(World())
    order, body = world.place()
    world.gateway.failing.add(order.order_id)
    event, ids = sqs_event(body)

    assert handler.lambda_handler(event, context) == {
        "batchItemFailures": [{"itemIdentifier": ids[0]}]
    }
    assert dynamodb.scan(TableName=TABLE)["Items"] == []

    world.gateway.failing.clear()
    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}
    assert world.orders.get(order.order_id).status is OrderStatus.COMPLETED
