"""Every failure leaves the API as JSON: `{"error": {"code", "message", "field"?}}`.

Domain and dependency exceptions are mapped to HTTP here, once, so routes stay free of
try/except. Bad input is never a 500; a dependency outage is a 503 with Retry-After.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from flashsale.domain.model import OutOfStock, UnknownProduct
from flashsale.ports import IdempotencyConflict
from flashsale.services.payments import TransientPaymentError
from orders_api.services import PaymentUnavailable, PublishFailed

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1

# ClientError codes that mean "the dependency is overloaded or down", not "the request is wrong".
_OUTAGE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "KMSThrottlingException",
        "LimitExceededException",
        "TransactionInProgressException",
    }
)


class ApiError(Exception):
    """An error the API answers deliberately, with its status and machine-readable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


def error_response(error: ApiError) -> Response:
    """The JSON error envelope answering `error`."""
    response = jsonify(error_body(error.code, error.message, error.field))
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def unavailable(message: str, code: str = "service_unavailable") -> Response:
    return error_response(
        ApiError(503, code, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    )


def first_error(messages: Any, prefix: str = "") -> tuple[str | None, str]:
    """The first (field path, message) of a marshmallow error dict: ("items.0.quantity", ...)."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = prefix if key == "_schema" else f"{prefix}.{key}" if prefix else str(key)
            return first_error(value, path)
    if isinstance(messages, list) and messages:
        head = messages[0]
        if isinstance(head, (dict, list)):
            return first_error(head, prefix)
        return (prefix or None), str(head)
    return (prefix or None), str(messages)


def is_outage(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error.get("Code") in _OUTAGE_CODES or status >= 500


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        field, message = first_error(exc.messages)
        return error_response(ApiError(422, "validation_error", message, field))

    @app.errorhandler(UnknownProduct)
    def _unknown_product(exc: UnknownProduct) -> Response:
        message = f"product {exc.product_id} does not exist"
        return error_response(ApiError(409, "unknown_product", message, "items"))

    @app.errorhandler(OutOfStock)
    def _out_of_stock(exc: OutOfStock) -> Response:
        if exc.available:
            message = f"product {exc.product_id}: {exc.requested} requested, {exc.available} left"
        else:
            message = f"product {exc.product_id} is sold out"
        return error_response(ApiError(409, "out_of_stock", message, "items"))

    @app.errorhandler(IdempotencyConflict)
    def _idempotency_conflict(exc: IdempotencyConflict) -> Response:
        if exc.reason == IdempotencyConflict.IN_FLIGHT:
            message = "a request with this Idempotency-Key is still being processed"
            return error_response(
                ApiError(409, "idempotency_key_in_flight", message, "Idempotency-Key")
            )
        # 409, like a key still in flight: the request is valid, the key's state conflicts with it
        message = "this Idempotency-Key was already used with a different request"
        return error_response(ApiError(409, "idempotency_key_reused", message, "Idempotency-Key"))

    @app.errorhandler(TransientPaymentError)
    @app.errorhandler(PaymentUnavailable)
    def _payment_unavailable(exc: Exception) -> Response:
        return unavailable("the payment gateway is unavailable, retry later", "payment_unavailable")

    @app.errorhandler(PublishFailed)
    def _publish_failed(exc: PublishFailed) -> Response:
        return unavailable("the order could not be queued, retry later", "publish_failed")

    @app.errorhandler(BotoCoreError)
    def _dependency_unreachable(exc: BotoCoreError) -> Response:
        log.warning("dependency unreachable: %s", exc)
        return unavailable("a dependency is unreachable, retry later")

    @app.errorhandler(ClientError)
    def _dependency_error(exc: ClientError) -> Response:
        if is_outage(exc):
            log.warning("dependency unavailable: %s", exc)
            return unavailable("a dependency is overloaded or unavailable, retry later")
        log.exception("unexpected dependency error")
        return error_response(ApiError(500, "internal_error", "internal error"))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(ApiError(status, code, exc.description or exc.name or "error"))
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(ApiError(500, "internal_error", "internal error"))
