"""X-Ray tracing for the API, on only when AWS_XRAY_SDK_ENABLED is set (Settings.xray_enabled).

A segment per request (the SDK's Flask middleware) annotated with the order's `order_id`, `route`
and `phase` (sync|async); a subsegment per AWS call made on the request's thread (botocore
patch), per payment (`payment-gateway`) and per publish (`sns-publish`). The publish subsegment's
trace header travels with the OrderPlaced message, so the processor or the Lambda continues the
same trace: one order, one trace. The batching publisher's sender threads send outside any
segment and are not traced themselves. Segments go over UDP to AWS_XRAY_DAEMON_ADDRESS (locally
the platform's relay).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Flask, Response, current_app, request

from flashsale import tracing as flashsale_tracing
from flashsale.domain.model import Route
from flashsale.events import OrderPlaced
from flashsale.ports import EventPublisher
from flashsale.settings import Settings

#: A payment subsegment (kept importable from here: the API's wiring uses it).
TracedGateway = flashsale_tracing.TracedGateway

PUBLISH_SUBSEGMENT = "sns-publish"
#: Requests that place an order, by path: their segments carry the order's annotations. Status
#: polls (GET /orders/<id>) do not, so an order's trace is the one that placed it.
ORDER_PHASES = {"/orders/sync": "sync", "/orders/async": "async"}
ASYNC_ROUTES = frozenset({Route.ECS.value, Route.LAMBDA.value})
ROUTE_HEADER = "X-Processing-Route"


class TracedPublisher:
    """An EventPublisher recording each publish as a subsegment of the request's segment.

    The event leaves with that subsegment's trace header (`Root=...;Parent=<publish>;Sampled=1`)
    captured here, on the request's thread, so it survives whichever thread sends it.
    """

    def __init__(self, inner: EventPublisher, recorder: Any) -> None:
        self.inner = inner
        self.recorder = recorder

    def publish(self, event: OrderPlaced) -> str:
        with self.recorder.in_subsegment(PUBLISH_SUBSEGMENT) as subsegment:
            header = flashsale_tracing.header_of(subsegment)
            if subsegment is not None:
                subsegment.put_annotation("order_id", event.order_id)
                subsegment.put_annotation("route", str(event.route))
            if header is not None:
                event = replace(event, trace_header=header.format())
            message_id = self.inner.publish(event)
            if subsegment is not None:
                subsegment.put_metadata("message_id", message_id)
            return message_id


def service_name(settings: Settings) -> str:
    return f"{settings.env_name}-orders-api"


def default_recorder(settings: Settings) -> Any:
    """The SDK's global recorder, configured for this service (once per worker process)."""
    from aws_xray_sdk.core import xray_recorder

    flashsale_tracing.configure(settings, service=service_name(settings))
    return xray_recorder


def instrument(app: Flask, recorder: Any) -> None:
    from aws_xray_sdk.ext.flask.middleware import XRayMiddleware

    XRayMiddleware(app, recorder)

    def annotate_order(response: Response) -> Response:
        _annotate_order(recorder, response)
        return response

    app.after_request(annotate_order)


def _annotate_order(recorder: Any, response: Response) -> None:
    phase = ORDER_PHASES.get(request.path)
    if phase is None or request.method != "POST":
        return
    segment = recorder.current_segment()
    if segment is None or not segment.sampled:
        return
    body = response.get_json(silent=True) if response.is_json else None
    body = body if isinstance(body, dict) else {}
    segment.put_annotation("phase", phase)
    route = Route.SYNC.value if phase == "sync" else _async_route(body)
    if route:
        segment.put_annotation("route", route)
    order_id = body.get("order_id")
    if isinstance(order_id, str):
        segment.put_annotation("order_id", order_id)


def _async_route(body: dict[str, Any]) -> str | None:
    """The route of an async order: from the answer, else as the request asked for it."""
    for candidate in (body.get("route"), request.headers.get(ROUTE_HEADER)):
        if isinstance(candidate, str) and candidate.strip().lower() in ASYNC_ROUTES:
            return candidate.strip().lower()
    deps = current_app.extensions.get("orders_api")
    return getattr(getattr(deps, "settings", None), "default_route", None)
