"""One order is one X-Ray trace, from the HTTP request to the recorded outcome, on every route.

Runs against the pipeline `make up` started (API at API_URL, tracing on). Each test places one
order, waits for its outcome in the orders table (not through the API: a status poll is a trace
of its own), then reads the trace named by the API's X-Amzn-Trace-Id from the X-Ray API (moto,
fed by the daemon stand-in) and checks its shape: the request's segment, the publish, the
consumer's segment as the publish's child, the payment and the DynamoDB calls, in causal order
and annotated with the order id. Finally `python -m flashsale_traces --order` shows it.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable

import boto3
import pytest
import requests
from support.pipeline import Pipeline

from flashsale.tracing import TraceHeader
from flashsale_kit.polling import wait_until
from flashsale_traces import query
from flashsale_traces.model import Span, Trace

API_URL = os.environ.get("API_URL", "http://127.0.0.1:8080").rstrip("/")
ORDER = {"customer_id": 4242, "items": [{"product_id": 1, "quantity": 1}]}
#: payment takes ~3 s; the Lambda path adds SQS batching and maybe a cold start
OUTCOME_DEADLINE_S = 90
TRACE_DEADLINE_S = 30
CONSUMERS = {"ecs": "order-processor", "lambda": "AWS::Lambda::Function"}


@pytest.fixture(scope="module")
def xray(local_aws: dict[str, str]):
    return boto3.client("xray")


@pytest.fixture(scope="module")
def orders(pipeline: Pipeline) -> Callable[[str], str | None]:
    """order id -> its status in the orders table (None: not written)."""
    return lambda order_id: pipeline.tables.statuses([order_id])[order_id]


def place(http: requests.Session, route: str) -> tuple[str, str, int]:
    """POST one order on `route`; returns its id, its trace id and the HTTP status."""
    if route == "sync":
        response = http.post(f"{API_URL}/orders/sync", json=ORDER, timeout=60)
    else:
        headers = {"X-Processing-Route": route}
        response = http.post(f"{API_URL}/orders/async", json=ORDER, headers=headers, timeout=30)
    assert response.status_code in (200, 202), response.text
    header = TraceHeader.parse(response.headers.get("X-Amzn-Trace-Id"))
    assert header is not None, "the API answered without a trace header: is tracing on?"
    return response.json()["order_id"], header.root, response.status_code


def descendants(span: Span) -> list[Span]:
    return [s for _, s in span.walk()][1:]


def named(spans: list[Span], name: str) -> list[Span]:
    return sorted((s for s in spans if s.name == name), key=lambda s: s.start)


def consumer_of(trace: Trace, route: str) -> Span | None:
    wanted = CONSUMERS[route]
    for _, span in trace.walk():
        if span.is_segment and wanted in (span.name, span.origin) and span.end is not None:
            return span
    return None


def fetch(xray, trace_id: str) -> Trace | None:
    found = query.find(xray, dt.timedelta(minutes=10), query.TraceFilter(trace_id=trace_id))
    return found[0] if found else None


def complete(xray, trace_id: str, route: str) -> Trace:
    """The trace once every part has arrived (the consumer's segment comes last)."""

    def ready() -> Trace | None:
        trace = fetch(xray, trace_id)
        if trace is None or not any(s.http_status for s in trace.roots):
            return None
        if route == "sync":
            return trace
        consumer = consumer_of(trace, route)
        if consumer is None or not named(descendants(consumer), "payment-gateway"):
            return None
        return trace

    return wait_until(ready, timeout=TRACE_DEADLINE_S, interval=0.5)


def request_segment(trace: Trace, status: int) -> Span:
    [api] = [s for s in trace.roots if s.is_segment and s.http_status is not None]
    assert api.name.endswith("orders-api") and api.http_status == status
    return api


@pytest.mark.parametrize("route", ["ecs", "lambda"])
def test_an_async_order_is_one_trace_from_request_to_outcome(http, orders, xray, route):
    order_id, trace_id, status = place(http, route)
    assert wait_until(lambda: orders(order_id) == "completed", timeout=OUTCOME_DEADLINE_S)

    trace = complete(xray, trace_id, route)

    assert trace.id == trace_id
    request = request_segment(trace, status)
    assert request.annotations == {"phase": "async", "route": route, "order_id": order_id}
    [publish] = named(request.children, "sns-publish")
    assert publish.annotations["order_id"] == order_id
    placed = named(request.children, "dynamodb")
    assert placed and placed[0].start <= publish.start  # stock reserved, then published
    consumer = consumer_of(trace, route)
    assert consumer.parent_id == publish.id  # the trace crossed SNS (and SQS) here
    assert consumer.annotations["order_id"] == order_id
    assert consumer.fault is False and consumer.error is False
    inside = descendants(consumer)
    [payment] = named(inside, "payment-gateway")
    assert payment.annotations["order_id"] == order_id
    assert payment.annotations["charge_status"] == "approved"
    stores = named(inside, "dynamodb")
    assert stores[0].start <= payment.start, "the order is moved to processing before paying"
    assert stores[-1].start >= payment.end, "the outcome is recorded after the payment"
    assert request.start <= publish.start <= consumer.start <= payment.start
    assert trace.annotation("route") == route

    timeline = show(order_id)
    assert f"trace {trace_id}" in timeline and f"order {order_id}" in timeline
    for name in ("sns-publish", consumer.name, "payment-gateway", "dynamodb"):
        assert name in timeline


def test_a_sync_order_is_one_trace_with_its_payment(http, orders, xray):
    order_id, trace_id, status = place(http, "sync")
    assert status == 200 and orders(order_id) == "completed"

    trace = complete(xray, trace_id, "sync")

    request = request_segment(trace, 200)
    assert request.annotations == {"phase": "sync", "route": "sync", "order_id": order_id}
    [payment] = named(request.children, "payment-gateway")
    assert payment.annotations["order_id"] == order_id
    stores = named(request.children, "dynamodb")
    assert stores[0].start <= payment.start <= payment.end <= stores[-1].start
    assert not named(request.children, "sns-publish")

    timeline = show(order_id)
    assert f"trace {trace_id}" in timeline and "payment-gateway" in timeline


def show(order_id: str) -> str:
    """`python -m flashsale_traces --order <id>` (what `make traces ORDER=<id>` runs)."""
    result = subprocess.run(
        [sys.executable, "-m", "flashsale_traces", "--order", order_id, "--since", "10m"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
