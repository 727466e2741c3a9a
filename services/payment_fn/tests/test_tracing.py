"""Each record carrying its order's trace header is paid in a segment of that order's trace."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aws_xray_sdk.core import AWSXRayRecorder
from aws_xray_sdk.core.lambda_launcher import LambdaContext

from flashsale import tracing
from flashsale.events import TRACE_HEADER_ATTRIBUTE
from flashsale.tracing import TraceHeader
from flashsale_testing.tracing import CapturingEmitter, flatten, sdk_enabled
from payment_fn import handler
from payment_fn.observability import tracer

from .conftest import World, sns_event, sqs_event

pytestmark = pytest.mark.filterwarnings("ignore:Disabling idempotency:UserWarning")

INVOCATION = "Root=1-6b06e3c9-000000000000000000000001;Parent=1111111111111111;Sampled=1"
OTHER = "Root=1-6b06e3c8-000000000000000000000002;Parent=2222222222222222;Sampled=1"


def order_header(n: int) -> str:
    return f"Root=1-6b06e3c8-{n:024x};Parent={n:016x};Sampled=1"


def with_headers(event: dict, headers: list[str | None], aws_headers=None) -> dict:
    for index, record in enumerate(event["Records"]):
        if headers[index]:
            attribute = {"stringValue": headers[index], "dataType": "String"}
            record["messageAttributes"][TRACE_HEADER_ATTRIBUTE] = attribute
        if aws_headers and aws_headers[index]:
            record["attributes"]["AWSTraceHeader"] = aws_headers[index]
    return event


def test_sqs_records_prefer_the_publishers_header():
    event, _ = sqs_event("a", "b", "c", "d")
    with_headers(event, [order_header(1), None, "garbled", None], [OTHER, OTHER, OTHER, None])
    parents = [handler.sqs_trace_parent(r) for r in event["Records"]]
    assert parents == [
        TraceHeader.parse(order_header(1)),
        TraceHeader.parse(OTHER),
        TraceHeader.parse(OTHER),
        None,
    ]


def test_sns_records_carry_the_header_in_their_message_attributes():
    event = sns_event("body")
    sns = event["Records"][0]["Sns"]
    assert handler.sns_trace_parent(sns) is None
    sns["MessageAttributes"][TRACE_HEADER_ATTRIBUTE] = {"Type": "String", "Value": OTHER}
    assert handler.sns_trace_parent(sns) == TraceHeader.parse(OTHER)


@pytest.fixture
def lambda_recorder(monkeypatch):
    """A recorder as in Lambda with Powertools tracing (LambdaContext, streaming at once)."""
    monkeypatch.setenv("_X_AMZN_TRACE_ID", INVOCATION)
    with sdk_enabled():
        own = AWSXRayRecorder()
        own.configure(sampling=False, emitter=CapturingEmitter())
        own.context = LambdaContext()
        own.streaming_threshold = 0
        monkeypatch.setattr(tracing, "_recorder", lambda: own)
        monkeypatch.setattr(tracer, "provider", own)  # Powertools' Tracer records through it too
        assert tracing.join_lambda_traces(active=True)
        yield own
    tracing.reset()


def traced_world(install) -> World:
    world = install(World(), concurrency=2)
    world.deps = replace(world.deps, gateway=tracing.TracedGateway(world.gateway))
    return world


def test_each_sqs_record_joins_its_own_orders_trace(lambda_recorder, install, context, warm):
    world = traced_world(install)
    (first, first_body), (second, second_body), (_, untraced_body) = (
        world.place(),
        world.place(),
        world.place(),
    )
    event, _ = sqs_event(first_body, second_body, untraced_body)
    with_headers(event, [order_header(1), order_header(2), None])

    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}

    docs = flatten(lambda_recorder.emitter.sent)
    segments = sorted(
        (d for d in docs if d["name"] == context.function_name), key=lambda d: d["trace_id"]
    )
    assert [(s["trace_id"], s["parent_id"]) for s in segments] == [
        (TraceHeader.parse(order_header(n)).root, TraceHeader.parse(order_header(n)).parent)
        for n in (1, 2)
    ]
    for segment, order in zip(segments, (first, second), strict=True):
        assert segment["origin"] == "AWS::Lambda::Function"
        assert segment["annotations"] == {
            "route": "lambda",
            "order_id": order.order_id,
            "outcome": "completed",
        }
        [method] = [d for d in docs if d["parent_id"] == segment["id"]]
        assert method["name"] == "## payment_fn.handler.pay_message"
        [payment] = [d for d in docs if d["parent_id"] == method["id"]]
        assert payment["name"] == "payment-gateway"
        assert payment["trace_id"] == segment["trace_id"]
    # the invocation's own trace: the handler, and the record that carried no header
    invocation = TraceHeader.parse(INVOCATION)
    [lambda_handler] = [d for d in docs if d["name"] == "## lambda_handler"]
    assert (lambda_handler["trace_id"], lambda_handler["parent_id"]) == (
        invocation.root,
        invocation.parent,
    )
    in_invocation = [d["name"] for d in docs if d["trace_id"] == invocation.root]
    assert in_invocation.count("payment-gateway") == 1


def test_an_sns_record_joins_its_orders_trace(lambda_recorder, install, context, warm):
    world = traced_world(install)
    order, body = world.place()
    event = sns_event(body)
    event["Records"][0]["Sns"]["MessageAttributes"][TRACE_HEADER_ATTRIBUTE] = {
        "Type": "String",
        "Value": order_header(3),
    }

    handler.lambda_handler(event, context)

    [segment] = [d for d in lambda_recorder.emitter.sent if d["name"] == context.function_name]
    assert segment["trace_id"] == TraceHeader.parse(order_header(3)).root
    assert segment["annotations"]["order_id"] == order.order_id
