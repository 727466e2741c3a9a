"""Trace headers, continuing a trace across a message, and the Lambda's per-record segments."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal

import boto3
import botocore.client
import botocore.endpoint
import pytest
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.lambda_launcher import LambdaContext
from botocore.stub import Stubber

from flashsale import tracing
from flashsale.domain.model import Order, OrderItem, Route
from flashsale.events import TRACE_HEADER_ATTRIBUTE, OrderPlaced, encode
from flashsale.tracing import TraceHeader
from flashsale_testing.tracing import CapturingEmitter, flatten, private_recorder, sdk_enabled

ROOT = "1-6b06e3c8-6b9f1f765fe0a22fb556bf7f"
PARENT = "53995c3f42cd8ad8"


# -- headers --------------------------------------------------------------------------------


def test_a_header_parses_and_formats_back():
    raw = f"Root={ROOT};Parent={PARENT};Sampled=1"
    header = TraceHeader.parse(raw)
    assert header == TraceHeader(ROOT, PARENT, True)
    assert header.format() == raw == str(header)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"Root={ROOT}", TraceHeader(ROOT)),
        (f"Root={ROOT};Sampled=0", TraceHeader(ROOT, None, False)),
        (f"Root={ROOT};Parent={PARENT};Sampled=?", TraceHeader(ROOT, PARENT, None)),
        (f" root = {ROOT} ; PARENT={PARENT} ; sampled=1 ;", TraceHeader(ROOT, PARENT, True)),
        (
            f"Root={ROOT};Parent={PARENT};Sampled=1;Lineage=a:1;Self=x",
            TraceHeader(ROOT, PARENT, True),
        ),
    ],
)
def test_header_variants_are_understood(raw, expected):
    assert TraceHeader.parse(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        42,
        "garbage",
        f"Parent={PARENT};Sampled=1",  # no root
        "Root=1-xyz-123;Sampled=1",
        f"Root={ROOT.upper()}",
        f"Root={ROOT};Parent=notahexparent!;Sampled=1",
        f"Root={ROOT};Parent={PARENT};Sampled=yes",
        f"Root={ROOT};{PARENT}",
    ],
)
def test_missing_or_garbled_headers_are_ignored(raw):
    assert TraceHeader.parse(raw) is None


def test_first_valid_header_wins():
    ours = f"Root={ROOT};Parent={PARENT};Sampled=1"
    assert TraceHeader.first([None, "garbled", ours]) == TraceHeader.parse(ours)
    assert TraceHeader.first([None, ""]) is None


def test_header_of_an_entity_points_at_it_and_keeps_the_sampling_decision(recorder):
    segment = recorder.begin_segment("api", traceid=ROOT)
    try:
        sub = recorder.begin_subsegment("sns-publish")
        assert tracing.header_of(sub) == TraceHeader(ROOT, sub.id, True)
        recorder.end_subsegment()
    finally:
        recorder.end_segment()
    assert tracing.header_of(None) is None
    unsampled = recorder.begin_segment("api", sampling=0)
    recorder.end_segment()
    header = tracing.header_of(unsampled)
    assert header.sampled is False and header.parent is None
    assert TraceHeader.parse(header.format()) == header
    assert segment.sampled


def test_the_header_travels_as_a_message_attribute():
    order = Order.new(7, [OrderItem(1, 1, Decimal("1.00"))], Route.LAMBDA)
    plain = OrderPlaced.from_order(order)
    _, attributes = encode(plain)
    assert TRACE_HEADER_ATTRIBUTE not in attributes

    header = f"Root={ROOT};Parent={PARENT};Sampled=1"
    body, attributes = encode(replace(plain, trace_header=header))
    assert attributes[TRACE_HEADER_ATTRIBUTE] == {"DataType": "String", "StringValue": header}
    assert attributes["route"]["StringValue"] == "lambda"
    assert header not in body  # beside the body, not in it


# -- recording ------------------------------------------------------------------------------


@pytest.fixture
def recorder(monkeypatch):
    with private_recorder(monkeypatch) as own:
        yield own


def documents(recorder) -> list[dict]:
    """Every document sent, subsegments embedded in a segment flattened out."""
    return flatten(recorder.emitter.sent)


def test_a_segment_continues_the_trace_of_its_parent_header(recorder):
    parent = TraceHeader(ROOT, PARENT, True)
    with tracing.segment("order-processor", parent=parent, route="ecs") as seg:
        with tracing.subsegment(tracing.PAYMENT_SUBSEGMENT):
            pass
        tracing.annotate(order_id="o1")
    [segment] = recorder.emitter.sent
    assert segment["trace_id"] == ROOT and segment["parent_id"] == PARENT
    assert segment["annotations"] == {"route": "ecs", "order_id": "o1"}
    assert [s["name"] for s in segment["subsegments"]] == ["payment-gateway"]
    assert tracing.header_of(seg) == TraceHeader(ROOT, seg.id, True)


def test_an_unsampled_parent_is_not_sampled_downstream(recorder):
    unsampled = TraceHeader(ROOT, PARENT, False)
    with tracing.segment("order-processor", parent=unsampled), tracing.subsegment("payment"):
        pass
    assert recorder.emitter.sent == []


def test_without_a_parent_a_segment_starts_its_own_trace(recorder):
    with tracing.segment("order-processor"):
        pass
    [segment] = recorder.emitter.sent
    assert segment["trace_id"] != ROOT and "parent_id" not in segment


def test_an_exception_is_recorded_on_the_subsegment_and_segment_it_escapes(recorder):
    with (
        pytest.raises(RuntimeError),
        tracing.segment("order-processor"),
        tracing.subsegment(tracing.PAYMENT_SUBSEGMENT),
    ):
        raise RuntimeError("gateway down")
    [segment] = recorder.emitter.sent
    [payment] = segment["subsegments"]
    [recorded] = payment["cause"]["exceptions"]
    assert payment["fault"] is True and recorded["message"] == "gateway down"
    # the segment it went on to escape points at the subsegment's record of it
    assert segment["fault"] is True and segment["cause"] == recorded["id"]


def test_the_traced_gateway_records_a_charge(recorder):
    class Gateway:
        def charge(self, order_id, amount, customer_id, idempotency_key=None):
            return type("Charge", (), {"status": "approved"})()

    with tracing.segment("order-processor"):
        tracing.TracedGateway(Gateway()).charge("o1", Decimal("1"), 7)
    [payment] = recorder.emitter.sent[0]["subsegments"]
    assert payment["name"] == "payment-gateway"
    assert payment["annotations"] == {"order_id": "o1", "charge_status": "approved"}


# -- the Lambda's per-record segments ---------------------------------------------------------


@pytest.fixture
def in_lambda(recorder, monkeypatch):
    """The recorder as Powertools finds it in Lambda: Lambda's context, streaming at once."""
    invocation = "Root=1-6b06e3c9-000000000000000000000001;Parent=1111111111111111;Sampled=1"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", invocation)
    recorder.context = LambdaContext()
    recorder.streaming_threshold = 0
    assert tracing.join_lambda_traces(active=True)
    return recorder


def test_lambda_refuses_plain_segments_without_joining(recorder, monkeypatch, caplog):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
    recorder.context = LambdaContext()
    with caplog.at_level(logging.WARNING, "aws_xray_sdk"), tracing.segment("payment-fn"):
        pass
    assert "Cannot create segments inside Lambda function" in caplog.text


@pytest.mark.parametrize("on_pool_thread", [False, True])
def test_a_record_joins_its_orders_trace_inside_the_invocation(in_lambda, on_pool_thread):
    recorder = in_lambda
    order = TraceHeader(ROOT, PARENT, True)

    def pay_record() -> None:
        with tracing.segment("local-payment-fn", parent=order, origin=tracing.LAMBDA_ORIGIN):
            with (
                tracing.subsegment("## pay_message"),
                tracing.subsegment(tracing.PAYMENT_SUBSEGMENT, order_id="o1"),
            ):
                pass
            tracing.annotate(order_id="o1")

    recorder.begin_subsegment("## lambda_handler")  # Powertools, on the handler's thread
    if on_pool_thread:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(pay_record).result()
    else:
        pay_record()
    recorder.end_subsegment()

    docs = documents(recorder)
    [record] = [d for d in docs if d["name"] == "local-payment-fn"]
    assert record["trace_id"] == ROOT and record["parent_id"] == PARENT
    assert record["origin"] == "AWS::Lambda::Function"
    assert record["annotations"] == {"order_id": "o1"}
    by_name = {d["name"]: d for d in docs}
    assert by_name["## pay_message"]["parent_id"] == record["id"]
    assert by_name["payment-gateway"]["parent_id"] == by_name["## pay_message"]["id"]
    assert by_name["payment-gateway"]["trace_id"] == ROOT
    handler = by_name["## lambda_handler"]  # the invocation's own trace is left as it was
    assert handler["trace_id"] == "1-6b06e3c9-000000000000000000000001"
    assert handler["parent_id"] == "1111111111111111"
    # back in the invocation afterwards
    assert recorder.get_trace_entity().trace_id == "1-6b06e3c9-000000000000000000000001"


def test_joining_is_off_when_the_function_does_not_trace(in_lambda):
    assert not tracing.join_lambda_traces(active=False)
    with tracing.segment("local-payment-fn", parent=TraceHeader(ROOT, PARENT, True)) as seg:
        pass
    assert seg is None and in_lambda.emitter.sent == []


# -- botocore: traced inside a segment only -------------------------------------------------


@pytest.fixture
def patched_botocore(monkeypatch):
    """tracing.patch_botocore on the global recorder, undone after the test."""
    for owner, name in (
        (botocore.client.BaseClient, "_make_api_call"),
        (botocore.endpoint.Endpoint, "prepare_request"),
    ):
        monkeypatch.setattr(owner, name, getattr(owner, name))
    monkeypatch.delattr(botocore.client, "_xray_enabled", raising=False)
    monkeypatch.setattr(tracing, "_patched", False)
    monkeypatch.setattr(tracing, "_enabled", True)
    emitter, missing = xray_recorder.emitter, xray_recorder.context.context_missing
    with sdk_enabled():
        xray_recorder.configure(
            sampling=False, context_missing="IGNORE_ERROR", emitter=CapturingEmitter()
        )
        tracing.patch_botocore()
        yield xray_recorder
        xray_recorder.configure(emitter=emitter, context_missing=missing, sampling=True)
    if hasattr(botocore.client, "_xray_enabled"):
        delattr(botocore.client, "_xray_enabled")


def test_aws_calls_are_traced_inside_a_segment_and_silent_outside(patched_botocore, caplog):
    client = boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response("list_queues", {"QueueUrls": []})
        stub.add_response("list_queues", {"QueueUrls": []})
        with caplog.at_level(logging.DEBUG, "aws_xray_sdk"):
            client.list_queues()  # e.g. a long poll outside any segment
        with tracing.segment("order-processor"):
            client.list_queues()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    [segment] = patched_botocore.emitter.sent
    [call] = segment["subsegments"]
    assert call["name"] == "sqs" and call["aws"]["operation"] == "ListQueues"
