"""Request parsing shared by the routes: JSON bodies, query arguments, path identifiers."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Request

from flashsale.schemas import MAX_ENTITY_ID
from orders_api.errors import ApiError

MAX_CONTENT_LENGTH = 64 * 1024  # bytes of request body; beyond it: 413


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _body_bytes(request: Request) -> bytes:
    """The body, refused with 413 beyond MAX_CONTENT_LENGTH.

    With a Content-Length, Werkzeug refuses an oversized body before reading it. A chunked body
    has none: Werkzeug would hand over its first MAX_CONTENT_LENGTH bytes as if that were all,
    so the limit is enforced here while the body streams in.
    """
    if request.content_length is not None:
        return request.get_data(cache=True)
    data = request.environ["wsgi.input"].read(MAX_CONTENT_LENGTH + 1)
    if len(data) > MAX_CONTENT_LENGTH:
        raise ApiError(
            413,
            "request_entity_too_large",
            f"the body is larger than {MAX_CONTENT_LENGTH} bytes",
        )
    return data


def json_body(request: Request) -> Any:
    """The decoded JSON body: 415 for another content type, 400 when it is not valid JSON."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = _body_bytes(request)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None


def json_object(request: Request) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    return body


_INTEGER = re.compile(r"-?[0-9]{1,30}")


def int_arg(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query argument in [low, high]; absent: `default`. Digits only, as documented
    (no "", " 5", "+5" or "1_000", which Python's int() would take)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    value = int(raw) if _INTEGER.fullmatch(raw) else low - 1
    if not low <= value <= high:
        raise ApiError(
            400, "invalid_parameter", f"{name} must be an integer from {low} to {high}", name
        )
    return value


def is_entity_id(value: int) -> bool:
    """Customer and product ids: positive and small enough for any store to take."""
    return 0 < value < MAX_ENTITY_ID
