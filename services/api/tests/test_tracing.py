"""X-Ray instrumentation: a segment per request, a subsegment per payment."""

from __future__ import annotations

from dataclasses import replace

from aws_xray_sdk.core import AWSXRayRecorder

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


def test_sync_order_is_traced_with_its_payment(world, order_body):
    emitter = CapturingEmitter()
    recorder = AWSXRayRecorder()
    recorder.configure(service="test-orders-api", sampling=False, emitter=emitter)
    deps = world.deps()
    traced = replace(deps.payment, gateway=tracing.TracedGateway(world.gateway, recorder))
    app = create_app(replace(deps, payment=traced))
    tracing.instrument(app, recorder)

    response = app.test_client().post("/orders/sync", json=order_body())

    assert response.status_code == 200 and "X-Amzn-Trace-Id" in response.headers
    [segment] = [e for e in emitter.entities if e.name == "test-orders-api"]
    assert segment.http["response"]["status"] == 200
    [payment] = segment.subsegments
    assert payment.name == "payment-gateway"
    assert payment.annotations == {
        "order_id": response.get_json()["order_id"],
        "charge_status": "approved",
    }
