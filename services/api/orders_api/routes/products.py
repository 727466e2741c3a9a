"""Catalog endpoints: list, get, search (the original API's contract) and an admin update."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from flashsale.schemas import MAX_ENTITY_ID, ProductSchema, ProductUpdateSchema
from orders_api import services
from orders_api.admin import require_admin
from orders_api.deps import ApiDeps
from orders_api.errors import ApiError
from orders_api.http import int_arg, is_entity_id, json_object

bp = Blueprint("products", __name__)

DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_QUERY_LENGTH = 100
#: What a search query is trimmed of (exactly these: the OpenAPI `pattern` names them too).
QUERY_SPACES = " \t\n\r\f\v"

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
    raw = request.args.get("q", "")
    query = raw.strip(QUERY_SPACES)
    if not query or len(raw) > MAX_QUERY_LENGTH:
        message = f"q must be 1-{MAX_QUERY_LENGTH} characters, not only spaces"
        raise ApiError(400, "invalid_parameter", message, "q")
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


@bp.put("/products/<int:product_id>")
def update_product(product_id: int) -> Response:
    deps = _deps()
    require_admin(request, deps.settings.admin_api_key)
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
