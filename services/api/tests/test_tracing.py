"""X-Ray instrumentation: a segment per request annotated with the order, subsegments for the
payment and the publish, and the publish's trace header handed to the order's consumers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import AWSXRayRecorder

from flashsale.events import TRACE_HEADER_ATTRIBUTE
from flashsale.tracing import TraceHeader
from orders_api import create_app, tracing


class CapturingEmitter:
    def __init__(self) -> None:
        self.entities = []

    def send_entity(self, entity) -> None:
        self.entities.append(entity)

    def set_daemon_address(self, address) -> None:
        pass

    @property
    def ip(self):
        return "127.0.0.1"

    @property
    def port(self):
        return 2000


@pytest.fixture
def emitter():
    """Powertools (payment_fn's suite, when collected in the same run) switches the SDK off
    process-wide outside Lambda: switch it back on for these tests."""
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)
    yield CapturingEmitter()
    global_sdk_config.set_sdk_enabled(was_enabled)


@pytest.fixture
def traced_client(world, emitter):
    recorder = AWSXRayRecorder()
    recorder.configure(service="test-orders-api", sampling=False, emitter=emitter)
    deps = world.deps()
    app = create_app(
        replace(
            deps,
            payment=replace(deps.payment, gateway=tracing.TracedGateway(world.gateway, recorder)),
            publisher=tracing.TracedPublisher(world.publisher, recorder),
        )
    )
    tracing.instrument(app, recorder)
    return app.test_client()


def request_segments(emitter):
    return [e for e in emitter.entities if e.name == "test-orders-api"]


def test_sync_order_is_traced_with_its_payment(traced_client, emitter, order_body):
    response = traced_client.post("/orders/sync", json=order_body())

    assert response.status_code == 200 and "X-Amzn-Trace-Id" in response.headers
    [segment] = request_segments(emitter)
    assert segment.http["response"]["status"] == 200
    order_id = response.get_json()["order_id"]
    assert segment.annotations == {"phase": "sync", "route": "sync", "order_id": order_id}
    [payment] = segment.subsegments
    assert payment.name == "payment-gateway"
    assert payment.annotations == {"order_id": order_id, "charge_status": "approved"}


@pytest.mark.parametrize("route", ["ecs", "lambda"])
def test_async_order_hands_its_publish_trace_header_to_the_message(
    traced_client, emitter, world, order_body, route
):
    response = traced_client.post(
        "/orders/async", json=order_body(), headers={"X-Processing-Route": route}
    )

    assert response.status_code == 202
    order_id = response.get_json()["order_id"]
    [segment] = request_segments(emitter)
    assert segment.annotations == {"phase": "async", "route": route, "order_id": order_id}
    [publish] = segment.subsegments
    assert publish.name == "sns-publish"
    assert publish.annotations == {"order_id": order_id, "route": route}
    [(_, event, _, attributes)] = world.publisher.published
    header = TraceHeader.parse(attributes[TRACE_HEADER_ATTRIBUTE]["StringValue"])
    assert header == TraceHeader(segment.trace_id, publish.id, True)
    assert event.trace_header == header.format()
    assert response.headers["X-Amzn-Trace-Id"] == f"Root={segment.trace_id}"


def test_a_failed_publish_is_recorded_and_still_annotated(
    traced_client, emitter, world, order_body
):
    world.publisher.fail_with = "topic unavailable"

    response = traced_client.post("/orders/async", json=order_body())

    assert response.status_code == 503
    [segment] = request_segments(emitter)
    assert segment.annotations["phase"] == "async"
    assert segment.annotations["route"] == world.settings.default_route
    [publish] = segment.subsegments
    assert publish.fault and publish.cause["exceptions"][0].type == "PublishError"


def test_status_polls_do_not_carry_the_order_annotations(traced_client, emitter, order_body):
    order_id = traced_client.post("/orders/async", json=order_body()).get_json()["order_id"]
    emitter.entities.clear()

    assert traced_client.get(f"/orders/{order_id}").status_code == 200

    [segment] = request_segments(emitter)
    assert segment.annotations == {}
