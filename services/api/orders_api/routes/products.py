"""Catalog endpoints: list, get, search (the original API's contract) and an admin update."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from flashsale.schemas import MAX_ENTITY_ID, ProductSchema, ProductUpdateSchema
from orders_api import services
from orders_api.deps import ApiDeps
from orders_api.errors import ApiError
from orders_api.http import int_arg, is_entity_id, json_object

bp = Blueprint("products", __name__)

ADMIN_HEADER = "X-Admin-Key"
DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_QUERY_LENGTH = 100

_product_schema = ProductSchema()
_products_schema = ProductSchema(many=True)
_update_schema = ProductUpdateSchema()


def _deps() -> ApiDeps:
    return current_app.extensions["orders_api"]


def _not_found(product_id: int) -> ApiError:
    return ApiError(404, "product_not_found", f"product {product_id} does not exist")


@bp.get("/products")
def list_products() -> Response:
    limit = int_arg(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    after = int_arg(request, "after", None, 0, MAX_ENTITY_ID)
    page = services.list_products(_deps().products, limit or DEFAULT_PAGE, after)
    next_after = page[-1].product_id if len(page) == limit else None
    return jsonify(
        {"products": _products_schema.dump(page), "count": len(page), "next_after": next_after}
    )


@bp.get("/products/search")
def search_products() -> Response:
    query = request.args.get("q", "").strip()
    if not query or len(query) > MAX_QUERY_LENGTH:
        raise ApiError(400, "invalid_parameter", f"q must be 1-{MAX_QUERY_LENGTH} characters", "q")
    result = services.search_products(_deps().products, query)
    return jsonify(
        {
            "products": _products_schema.dump(result.products),
            "total_found": result.total_found,
            "search_time": f"{result.seconds * 1000:.3f}ms",
        }
    )


@bp.get("/products/<int:product_id>")
def get_product(product_id: int) -> Response:
    product = (
        services.get_product(product_id, _deps().products) if is_entity_id(product_id) else None
    )
    if product is None:
        raise _not_found(product_id)
    return jsonify(_product_schema.dump(product))


def _require_admin(configured: str | None) -> None:
    if not configured:
        raise ApiError(403, "admin_disabled", "product updates are disabled: no admin key is set")
    given = request.headers.get(ADMIN_HEADER)
    if not given:
        raise ApiError(401, "admin_key_required", f"send the {ADMIN_HEADER} header", ADMIN_HEADER)
    if not hmac.compare_digest(given.encode(), configured.encode()):
        raise ApiError(403, "admin_key_invalid", f"the {ADMIN_HEADER} is not valid", ADMIN_HEADER)


@bp.put("/products/<int:product_id>")
def update_product(product_id: int) -> Response:
    deps = _deps()
    _require_admin(deps.settings.admin_api_key)
    changes = _update_schema.load(json_object(request))
    if not changes:
        raise ApiError(422, "validation_error", "send at least one of: name, price, stock")
    product = (
        services.update_product(deps.products, product_id, changes)
        if is_entity_id(product_id)
        else None
    )
    if product is None:
        raise _not_found(product_id)
    return jsonify(_product_schema.dump(product))
