"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from orders_api.admin import is_admin
from orders_api.deps import ApiDeps
from orders_api.errors import RETRY_AFTER_SECONDS
from orders_api.openapi import build_spec

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers. Touches no dependency."""
    return jsonify({"status": "healthy"})


@bp.get("/ready")
def ready() -> Response:
    """Ready or not; which dependency is down (and AWS's words) only for the admin key."""
    deps: ApiDeps = current_app.extensions["orders_api"]
    checks = dict(deps.readiness.check())
    down = sorted(name for name, problem in checks.items() if problem)
    body: dict[str, object] = {"status": "unavailable" if down else "ready"}
    detailed = is_admin(request, deps.settings.admin_api_key)
    if detailed:
        body["checks"] = {name: problem or "ok" for name, problem in checks.items()}
    if not down:
        return jsonify(body)
    message = f"unavailable: {', '.join(down)}" if detailed else "a dependency is unavailable"
    body["error"] = {"code": "not_ready", "message": message}
    response = jsonify(body)
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    if "openapi" not in current_app.extensions:
        current_app.extensions["openapi"] = build_spec()
    return jsonify(current_app.extensions["openapi"])
