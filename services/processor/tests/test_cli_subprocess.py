"""The real `python -m order_processor run` against a moto server (SQS + DynamoDB): it pays an
order, and SIGTERM while a payment is in flight still completes it, deletes the message, exits 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from flashsale import bootstrap
from flashsale.adapters.dynamodb import create_tables
from flashsale.domain.model import Order, OrderItem, OrderStatus, Product, Route
from flashsale.events import OrderPlaced, encode
from flashsale.settings import Settings

from .conftest import wait_until

DEADLINE = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    try:
        assert wait_until(answers, timeout=DEADLINE), "moto server did not start"
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture
def platform(moto_endpoint, monkeypatch):
    """A fresh environment (tables, queue, one product) on the moto server."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")  # the shared adapters' boto3 session
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    bootstrap.reset()
    env_name = f"p{uuid.uuid4().hex[:8]}"
    base = {
        "ENV_NAME": env_name,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "PAYMENT_LATENCY_SECONDS": "2",
        "PROCESSOR_CONCURRENCY": "2",
        "PAYMENT_CONCURRENCY": "2",
    }
    kwargs = {"endpoint_url": moto_endpoint, "region_name": "us-east-1"}
    kwargs |= {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    sqs = boto3.client("sqs", **kwargs)
    queue_url = sqs.create_queue(QueueName=f"{env_name}-order-queue")["QueueUrl"]
    env = {**base, "ORDER_QUEUE_URL": queue_url}
    settings = Settings.from_env(env)
    create_tables(boto3.client("dynamodb", **kwargs), settings)
    bootstrap.product_store(settings).put(
        Product(product_id=1, name="Widget", price=Decimal("3.50"), stock=10)
    )
    yield env, settings, sqs, queue_url
    bootstrap.reset()


def test_sigterm_finishes_the_in_flight_payment_and_exits_zero(platform, tmp_path):
    env, settings, sqs, queue_url = platform
    orders = bootstrap.order_store(settings)
    order = Order.new(customer_id=9, items=[OrderItem(1, 2, Decimal("3.50"))], route=Route.ECS)
    orders.place(order)
    body, attributes = encode(OrderPlaced.from_order(order))
    sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes)

    out = tmp_path / "processor.log"
    with out.open("w") as stdout:
        child_env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "order_processor", "run", "--wait-time", "1"],
            env={**child_env, **env},
            stdout=stdout,
            stderr=subprocess.STDOUT,
        )
        try:
            paying = wait_until(
                lambda: (
                    (o := orders.get(order.order_id)) is not None
                    and o.status is OrderStatus.PROCESSING
                ),
                timeout=DEADLINE,
            )
            assert paying, out.read_text()
            process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            assert process.wait(DEADLINE) == 0, out.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert time.monotonic() - started < DEADLINE
    assert orders.get(order.order_id).status is OrderStatus.COMPLETED
    counts = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert (
        counts["ApproximateNumberOfMessages"]
        == counts["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    [processed] = [line for line in lines if line["msg"] == "order processed"]
    assert (processed["order_id"], processed["outcome"]) == (order.order_id, "completed")
    assert lines[-1]["msg"] == "processor stopped" and lines[-1]["drained"] is True
