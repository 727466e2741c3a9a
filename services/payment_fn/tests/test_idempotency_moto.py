"""Powertools idempotency for real, against moto's DynamoDB: repeats are served from the store."""

from __future__ import annotations

import os
import time

import boto3
import pytest
from moto import mock_aws

from flashsale import aws
from flashsale.domain.model import OrderStatus
from payment_fn import handler, runtime

from .conftest import PeakTracker, World, sns_event, sqs_event

TABLE = "test-idempotency"


class CountingOrders:
    """Counts how often the payment flow starts an order (each start is one payment attempt)."""

    def __init__(self, inner):
        self.inner = inner
        self.starts = 0

    def claim(self, order_id, terms, **fields):
        self.starts += 1
        return self.inner.claim(order_id, terms, **fields)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def counted_world(install, concurrency: int = 1, sleep=None) -> tuple[World, CountingOrders]:
    """A World installed behind the handler, its payment starts counted."""
    world = World(sleep=sleep)
    counting = CountingOrders(world.orders)
    world.deps.orders = counting
    install(world, concurrency)
    return world, counting


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
    world, counting = counted_world(install)
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


class CountingClient:
    """The DynamoDB client, counting the requests the idempotency layer sends."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: dict[str, int] = {}

    def transact_write_items(self, **kwargs):
        """The first transaction waits (up to 2 s) for another write to queue behind it, as
        concurrent writes do behind a real round trip."""
        if not self.calls.get("transact_write_items"):
            queue = runtime.get().persistence.client.group._queue
            deadline = time.monotonic() + 2
            while not queue and time.monotonic() < deadline:
                time.sleep(0.005)
        self.calls["transact_write_items"] = self.calls.get("transact_write_items", 0) + 1
        return self.inner.transact_write_items(**kwargs)

    def __getattr__(self, name):
        attribute = getattr(self.inner, name)
        if not callable(attribute) or name.startswith("_") or name == "meta":
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return attribute(*args, **kwargs)

        return counted


@pytest.fixture
def counting_client(dynamodb, monkeypatch):
    """The idempotency layer's client, counting: runtime.build asks aws.client for it."""
    counting = CountingClient(dynamodb)
    monkeypatch.setattr(runtime.aws, "client", lambda _service, _settings=None: counting)
    return counting


def test_the_records_of_a_batch_share_transactions(
    dynamodb, counting_client, install, context, warm
):
    world = install(World(sleep=PeakTracker(expected_peak=10)), concurrency=10)
    placed = [world.place() for _ in range(10)]
    event, _ = sqs_event(*(body for _, body in placed))

    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}

    calls = counting_client.calls
    # 10 INPROGRESS puts and 10 COMPLETED updates, in fewer transactions than writes
    assert "put_item" not in calls and "update_item" not in calls
    assert 2 <= calls["transact_write_items"] < 20
    items = dynamodb.scan(TableName=TABLE)["Items"]
    assert sorted(item["status"]["S"] for item in items) == ["COMPLETED"] * 10
    for order, _ in placed:
        assert len(world.ledger.charges(order.order_id)) == 1


def test_a_record_stored_by_another_environment_is_served_not_paid(
    dynamodb, counting_client, install, context, warm
):
    """The transaction refuses the put (the record exists): the plain put that follows gives
    Powertools the stored record, and the order is neither started nor charged again."""
    world, counting = counted_world(install)
    order, body = world.place()
    [first] = handler.lambda_handler(sns_event(body), context)["results"]
    install(world)  # a fresh environment: an empty local cache, a new group commit

    event, _ = sqs_event(body)
    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}
    [again] = handler.lambda_handler(sns_event(body), context)["results"]

    assert first["charged"] and not again["charged"] and again["duplicate"]
    assert counting.starts == 1
    assert len(world.ledger.charges(order.order_id)) == 1
    assert counting_client.calls.get("put_item", 0) >= 1  # the refused put, sent on its own


def test_one_order_twice_in_a_batch_is_charged_once(
    dynamodb, counting_client, install, context, warm
):
    world, counting = counted_world(install, concurrency=2, sleep=PeakTracker(expected_peak=2))
    order, body = world.place()
    event, _ = sqs_event(body, body)

    failures = handler.lambda_handler(event, context)["batchItemFailures"]
    assert len(failures) <= 1  # the copy that found the record in progress is retried
    for failure in failures:
        retry = {
            "Records": [r for r in event["Records"] if r["messageId"] == failure["itemIdentifier"]]
        }
        assert handler.lambda_handler(retry, context) == {"batchItemFailures": []}

    assert counting.starts == 1
    assert len(world.ledger.charges(order.order_id)) == 1
    assert world.orders.get(order.order_id).status is OrderStatus.COMPLETED
