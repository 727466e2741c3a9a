"""Order endpoints: place (sync or async) and look up."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, current_app, jsonify, request

from flashsale.domain.model import Route
from flashsale.ports import StoreBusy
from flashsale.schemas import OrderRequest, OrderRequestSchema, dump_order
from orders_api import idempotency, services
from orders_api.deps import ApiDeps
from orders_api.errors import ApiError, error_body, unavailable
from orders_api.http import json_object

bp = Blueprint("orders", __name__)

ROUTE_HEADER = "X-Processing-Route"
ASYNC_ROUTES = {Route.ECS.value: Route.ECS, Route.LAMBDA.value: Route.LAMBDA}

_request_schema = OrderRequestSchema()


@bp.errorhandler(StoreBusy)
def _store_busy(exc: StoreBusy) -> Response:
    """Nothing was written (contention, or prices changing under the order): retry later."""
    return unavailable("the order could not be placed right now, retry later", "store_busy")


def _deps() -> ApiDeps:
    return current_app.extensions["orders_api"]


def _respond(answer: idempotency.Answer) -> Response:
    response = jsonify(answer.body)
    response.status_code = answer.status
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _processing_route(deps: ApiDeps) -> Route:
    raw = request.headers.get(ROUTE_HEADER)
    if raw is None or raw.strip() == "":
        return Route(deps.settings.default_route)
    route = ASYNC_ROUTES.get(raw.strip().lower())
    if route is None:
        raise ApiError(
            400,
            "invalid_route",
            f"{ROUTE_HEADER} must be one of: {', '.join(ASYNC_ROUTES)}",
            ROUTE_HEADER,
        )
    return route


def _order_request() -> tuple[dict[str, Any], int, list[services.OrderLine]]:
    body = json_object(request)
    order_request: OrderRequest = _request_schema.load(body)  # ids range-checked there
    return body, order_request.customer_id, services.order_lines(order_request.quantities())


@bp.post("/orders/sync")
def place_sync() -> Response:
    deps = _deps()
    key = idempotency.validate_key(request.headers.get(idempotency.HEADER))
    body, customer_id, lines = _order_request()

    def handle() -> idempotency.Answer:
        result = services.place_sync_order(
            customer_id, lines, deps.reserver, deps.orders, deps.products, deps.payment
        )
        order = dump_order(result.order)
        if result.pending:
            payload = {
                **order,
                "message": "payment pending: its outcome is being confirmed with the gateway",
                "order_id": result.order.order_id,
                "status": "processing",
                "status_url": f"/orders/{result.order.order_id}",
            }
            return idempotency.Answer(202, payload)
        if result.approved:
            payload = {
                **order,
                "message": "Order processed successfully",
                "order_id": result.order.order_id,
                "status": "completed",
            }
            return idempotency.Answer(200, payload)
        payload = {
            **error_body("payment_declined", "the payment was declined"),
            "order_id": result.order.order_id,
            "status": "failed",
            "order": order,
        }
        return idempotency.Answer(402, payload)

    fingerprint = idempotency.fingerprint(request.method, request.path, body)
    return _respond(idempotency.run(deps.idempotency, key, fingerprint, handle))


@bp.post("/orders/async")
def place_async() -> Response:
    deps = _deps()
    key = idempotency.validate_key(request.headers.get(idempotency.HEADER))
    route = _processing_route(deps)
    body, customer_id, lines = _order_request()

    def handle() -> idempotency.Answer:
        result = services.place_async_order(
            customer_id, lines, route, deps.reserver, deps.orders, deps.products, deps.publisher
        )
        payload = {
            "message": "Order accepted for processing",
            "order_id": result.order.order_id,
            "status": "pending",
            "message_id": result.message_id,
            "route": route.value,
        }
        return idempotency.Answer(202, payload)

    fingerprint = idempotency.fingerprint(request.method, request.path, body, route=route.value)
    return _respond(idempotency.run(deps.idempotency, key, fingerprint, handle))


@bp.get("/orders/<uuid:order_id>")
def get_order(order_id: UUID) -> Response:
    order = services.get_order(str(order_id), _deps().orders)
    if order is None:
        raise ApiError(404, "order_not_found", f"order {order_id} does not exist")
    return jsonify(dump_order(order))
