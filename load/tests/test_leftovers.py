"""Clean starts against moto in-process: leftovers are failed through the product's own rules."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from flashsale import bootstrap
from flashsale.adapters.dynamodb import DynamoDbProductStore, create_tables
from flashsale.domain.model import Order, OrderItem, OrderStatus, Product
from flashsale.settings import Settings
from flashsale_kit.running import RunningStack
from flashsale_load import leftovers
from localaws.config import PlatformConfig

STOCK = 100


@pytest.fixture
def stack(fake_aws):
    sqs = boto3.client("sqs", region_name="us-east-1")
    urls = {
        name: sqs.create_queue(QueueName=f"left-{name}")["QueueUrl"]
        for name in ("order-queue", "payment-queue")
    }
    settings = Settings.from_env(
        {
            "ENV_NAME": "left",
            "AWS_REGION": "us-east-1",
            "ORDER_QUEUE_URL": urls["order-queue"],
            "PAYMENT_QUEUE_URL": urls["payment-queue"],
        }
    )
    create_tables(boto3.client("dynamodb", region_name="us-east-1"), settings)
    products = DynamoDbProductStore(
        boto3.client("dynamodb", region_name="us-east-1"), settings.products_table, 0
    )
    products.seed([Product(1, "Red Shoe", Decimal("19.99"), STOCK, "shoes")])
    bootstrap.order_store.cache_clear()
    yield RunningStack(PlatformConfig.from_env(), settings)
    bootstrap.order_store.cache_clear()


def place(stack: RunningStack, route: str, created_at: str | None = None) -> str:
    order = Order.new(7, [OrderItem(1, 2, Decimal("19.99"))], route)
    if created_at is not None:
        order = replace(order, created_at=created_at)
    bootstrap.order_store(stack.settings).place(order)
    stack.client("sqs").send_message(
        QueueUrl=stack.queues["order-queue" if route == "ecs" else "payment-queue"],
        MessageBody=order.order_id,
    )
    return order.order_id


def stock(stack: RunningStack) -> int:
    item = stack.client("dynamodb").get_item(
        TableName=stack.settings.products_table, Key={"product_id": {"N": "1"}}
    )["Item"]
    return int(item["stock"]["N"])


def status(stack: RunningStack, order_id: str) -> str:
    return bootstrap.order_store(stack.settings).get(order_id).status


def test_empty_queues_start_at_once_and_release_nothing(stack):
    found = leftovers.start_on_empty_queues(stack, wait_s=5)
    assert found.clean and found.failed == 0
    assert found.queued == {"order-queue": 0, "payment-queue": 0}
    assert "queues empty" in found.describe()


def test_leftovers_are_failed_with_their_stock_released_once(stack):
    waiting = [place(stack, "ecs"), place(stack, "lambda"), place(stack, "ecs")]
    paying = place(stack, "ecs")
    orders = bootstrap.order_store(stack.settings)
    assert orders.transition(paying, {OrderStatus.PENDING}, OrderStatus.PROCESSING)
    assert stock(stack) == STOCK - 8

    found = leftovers.start_on_empty_queues(stack, wait_s=0, settle_s=0)

    assert not found.clean
    assert found.queued == {"order-queue": 3, "payment-queue": 1}
    assert found.failed == 3 and found.processing == 1
    assert [status(stack, oid) for oid in waiting] == ["failed"] * 3
    assert orders.get(waiting[0]).failure_reason == leftovers.REASON
    assert status(stack, paying) == "processing"  # being paid: left to its consumer
    assert stock(stack) == STOCK - 2  # the three failed orders' units are back, once
    assert leftovers.depths(stack, stack.queues) == {"order-queue": 0, "payment-queue": 0}
    # a second clean start finds nothing more to release: stock is not given back twice
    again = leftovers.start_on_empty_queues(stack, wait_s=0, settle_s=0)
    assert again.failed == 0 and stock(stack) == STOCK - 2
    assert "3 pending orders failed, stock released; 1 still being paid" in found.describe()


def test_discard_backlog_fails_only_the_orders_since_a_time(stack):
    older = place(stack, "ecs", created_at="2026-01-31T12:00:00.000Z")
    newer = place(stack, "ecs", created_at="2026-01-31T12:00:05.000Z")
    since = "2026-01-31T12:00:01.000Z"
    assert leftovers.discard_backlog(stack, "order-queue", since=since) == 2
    assert status(stack, newer) == "failed" and status(stack, older) == "pending"
    assert stock(stack) == STOCK - 2


def test_a_second_purge_within_the_minute_deletes_the_messages_instead(stack, monkeypatch):
    place(stack, "ecs")
    place(stack, "ecs")

    def refused(**kwargs):
        raise ClientError(
            {"Error": {"Code": "AWS.SimpleQueueService.PurgeQueueInProgress"}}, "PurgeQueue"
        )

    monkeypatch.setattr(stack.client("sqs"), "purge_queue", refused)
    assert leftovers.purge(stack, "order-queue", timeout=10) == 2
    assert leftovers.depths(stack, ["order-queue"]) == {"order-queue": 0}
