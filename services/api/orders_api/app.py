"""The Flask app factory: routes, JSON errors and limits, over dependencies handed in."""

from __future__ import annotations

from flask import Flask

from orders_api.deps import ApiDeps
from orders_api.errors import register_error_handlers
from orders_api.http import MAX_CONTENT_LENGTH
from orders_api.routes import health, orders, products


def create_app(deps: ApiDeps) -> Flask:
    app = Flask("orders_api")
    app.config.update(MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH, JSON_SORT_KEYS=False)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["orders_api"] = deps
    for blueprint in (orders.bp, products.bp, health.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    return app
