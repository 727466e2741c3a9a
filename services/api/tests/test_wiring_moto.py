"""The app over the real adapters (DynamoDB, SNS, the gateway) wired from Settings, on moto."""

from __future__ import annotations

import os
from dataclasses import replace
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from flashsale import bootstrap
from flashsale.adapters.dynamodb import create_tables
from flashsale.domain.model import OrderStatus, Product
from flashsale.settings import Settings
from orders_api import create_app
from orders_api.wiring import build_deps

REGION = "us-east-1"
ORDER = {"customer_id": 9, "items": [{"product_id": 1, "quantity": 2}]}


@pytest.fixture
def settings(monkeypatch):
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        bootstrap.reset()
        base = Settings.from_env({"ENV_NAME": "apitest", "AWS_REGION": REGION})
        create_tables(boto3.client("dynamodb", region_name=REGION), base)
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="apitest-order-events")
        yield replace(
            base,
            order_topic_arn=topic["TopicArn"],
            payment_latency_seconds=0,
            admin_api_key="moto-admin",
        )
        bootstrap.reset()


@pytest.fixture
def deps(settings):
    deps = build_deps(settings)
    deps.products.seed([Product(1, "Alpha", Decimal("4.25"), 5, "books")])
    return deps


@pytest.fixture
def client(deps):
    return create_app(deps).test_client()


def test_async_order_is_stored_and_published(client, deps, settings):
    response = client.post("/orders/async", json=ORDER, headers={"X-Processing-Route": "lambda"})

    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["message_id"]
    order = client.get(f"/orders/{body['order_id']}").get_json()
    assert order["status"] == "pending" and order["route"] == "lambda" and order["total"] == 8.5
    assert deps.products.get(1).stock == 3


def test_sync_order_is_charged_once_and_replayed(client, deps, settings):
    headers = {"Idempotency-Key": "moto-sync"}

    first = client.post("/orders/sync", json=ORDER, headers=headers)
    replay = client.post("/orders/sync", json=ORDER, headers=headers)

    assert first.status_code == 200 and first.get_json()["status"] == "completed"
    assert replay.status_code == 200 and replay.get_json() == first.get_json()
    order_id = first.get_json()["order_id"]
    assert len(bootstrap.payment_ledger(settings).charges(order_id)) == 1
    assert deps.products.get(1).stock == 3


def test_sold_out_writes_nothing(client, deps):
    response = client.post(
        "/orders/async", json={**ORDER, "items": [{"product_id": 1, "quantity": 6}]}
    )
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "out_of_stock"
    assert deps.products.get(1).stock == 5


def test_publish_failure_is_compensated(client, deps, settings):
    boto3.client("sns", region_name=REGION).delete_topic(TopicArn=settings.order_topic_arn)

    response = client.post("/orders/async", json=ORDER)

    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "publish_failed"
    assert deps.products.get(1).stock == 5
    [item] = boto3.client("dynamodb", region_name=REGION).scan(TableName=settings.orders_table)[
        "Items"
    ]
    assert deps.orders.get(item["order_id"]["S"]).status is OrderStatus.FAILED


def test_ready_and_product_update(client, settings):
    assert client.get("/ready").status_code == 200

    headers = {"X-Admin-Key": "moto-admin"}
    body = {"price": 3.5, "stock": 50}
    response = client.put("/products/1", json=body, headers=headers)

    assert response.status_code == 200 and response.get_json()["price"] == 3.5
    assert client.get("/products/1").get_json()["stock"] == 50
