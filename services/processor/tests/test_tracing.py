"""The processor continues each order's trace: a segment per message, child of the API's publish."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace

import pytest

from flashsale import tracing
from flashsale.events import TRACE_HEADER_ATTRIBUTE
from flashsale.tracing import TraceHeader
from flashsale_testing.tracing import private_recorder
from order_processor.queue import Message, SqsQueue
from order_processor.worker import TRACE_SEGMENT, Worker, trace_parent

from .conftest import WAIT, FakeQueue, World, wait_until

ROOT = "1-6b06e3c8-6b9f1f765fe0a22fb556bf7f"
PUBLISH = "53995c3f42cd8ad8"
OURS = f"Root={ROOT};Parent={PUBLISH};Sampled=1"
OTHER = "Root=1-6b06e3c8-000000000000000000000002;Parent=1111111111111111;Sampled=1"


def message(body: str = "{}", attributes=None, aws_trace_header=None) -> Message:
    return Message(
        message_id=str(uuid.uuid4()),
        receipt_handle=f"rh-{uuid.uuid4().hex[:8]}",
        body=body,
        attributes={"route": "ecs", **(attributes or {})},
        aws_trace_header=aws_trace_header,
    )


@pytest.mark.parametrize(
    ("attribute", "system", "expected"),
    [
        (OURS, None, OURS),
        (OURS, OTHER, OURS),  # the publisher's per-order header wins
        (None, OTHER, OTHER),  # e.g. a message another producer sent traced
        ("garbled", OTHER, OTHER),
        ("garbled", "also garbled", None),
        (None, None, None),
    ],
)
def test_the_parent_comes_from_the_message(attribute, system, expected):
    attributes = {TRACE_HEADER_ATTRIBUTE: attribute} if attribute else {}
    parent = trace_parent(message(attributes=attributes, aws_trace_header=system))
    assert parent == TraceHeader.parse(expected)


def test_sqs_receive_keeps_the_trace_headers():
    class Client:
        def receive_message(self, **kwargs):
            assert kwargs["MessageSystemAttributeNames"] == ["All"]
            raw = {
                "MessageId": "m1",
                "ReceiptHandle": "rh1",
                "Body": "{}",
                "Attributes": {"ApproximateReceiveCount": "2", "AWSTraceHeader": OTHER},
                "MessageAttributes": {
                    TRACE_HEADER_ATTRIBUTE: {"DataType": "String", "StringValue": OURS}
                },
            }
            return {"Messages": [raw]}

    [received] = SqsQueue(Client(), "url").receive(1, 0, 30)
    assert received.aws_trace_header == OTHER
    assert received.attributes[TRACE_HEADER_ATTRIBUTE] == OURS


@pytest.fixture
def recorder(monkeypatch):
    with private_recorder(monkeypatch) as own:
        yield own


def test_a_message_is_paid_in_a_segment_of_its_orders_trace(recorder, config):
    world = World()
    world.held.gate.set()
    order, body = world.place()
    queue = FakeQueue()
    queue.available.append(message(body, {TRACE_HEADER_ATTRIBUTE: OURS}))
    deps = replace(world.deps, gateway=tracing.TracedGateway(world.gateway))
    worker = Worker(queue, deps, config)

    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: queue.deleted and recorder.emitter.sent)
    finally:
        worker.stop()
        thread.join(WAIT * 2)

    [segment] = recorder.emitter.sent
    assert segment["name"] == TRACE_SEGMENT
    assert segment["trace_id"] == ROOT and segment["parent_id"] == PUBLISH
    assert segment["annotations"]["order_id"] == order.order_id
    assert segment["annotations"]["route"] == "ecs"
    assert segment["annotations"]["outcome"] == "completed"
    [payment] = segment["subsegments"]
    assert payment["name"] == "payment-gateway"
    assert payment["annotations"]["order_id"] == order.order_id
