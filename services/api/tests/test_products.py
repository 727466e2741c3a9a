"""Catalog endpoints: paging, lookup, search (the original contract) and the admin update."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from orders_api import create_app

ADMIN = {"X-Admin-Key": "test-admin-key"}


def test_list_pages_through_the_catalog_by_id(client):
    seen, after = [], None
    while True:
        query = {"limit": 7} if after is None else {"limit": 7, "after": after}
        body = client.get("/products", query_string=query).get_json()
        assert len(body["products"]) <= 7 and body["count"] == len(body["products"])
        seen += [p["product_id"] for p in body["products"]]
        after = body["next_after"]
        if after is None:
            break
    assert seen == [1, 2, 3, *range(100, 130)]


def test_list_defaults_to_20(client):
    body = client.get("/products").get_json()
    assert body["count"] == 20 and body["next_after"] == 116


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "after=-1", "after=1e3"])
def test_list_rejects_bad_parameters(client, assert_error, query):
    field = query.split("=")[0]
    assert_error(client.get(f"/products?{query}"), 400, "invalid_parameter", field)


def test_get_product(client):
    response = client.get("/products/1")
    assert response.status_code == 200
    assert response.get_json() == {
        "product_id": 1,
        "name": "Alpha Phone",
        "price": 199.99,
        "stock": 10,
        "category": "Electronics",
        "description": "a phone",
    }


@pytest.mark.parametrize("product_id", ["999", "0", str(10**40)])
def test_unknown_product_is_404(client, assert_error, product_id):
    assert_error(client.get(f"/products/{product_id}"), 404, "product_not_found")


def test_search_returns_at_most_20_and_the_total(client):
    response = client.get("/products/search?q=widget")

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"products", "total_found", "search_time"}
    assert len(body["products"]) == 20 and body["total_found"] == 30
    assert body["search_time"].endswith("ms")


def test_search_matches_name_category_and_description(client):
    by_category = client.get("/products/search?q=books").get_json()
    by_description = client.get("/products/search?q=SOLD OUT").get_json()
    assert [p["product_id"] for p in by_category["products"]] == [2]
    assert [p["product_id"] for p in by_description["products"]] == [3]
    assert client.get("/products/search?q=zebra").get_json()["total_found"] == 0


@pytest.mark.parametrize("query", ["", "?q=", "?q=%20", "?q=" + "a" * 101])
def test_search_needs_a_query(client, assert_error, query):
    assert_error(client.get(f"/products/search{query}"), 400, "invalid_parameter", "q")


def test_admin_updates_name_price_and_stock(client, world):
    changes = {"name": "Alpha Phone 2", "price": 149.5, "stock": 500}

    response = client.put("/products/1", json=changes, headers=ADMIN)

    assert response.status_code == 200
    assert response.get_json()["price"] == 149.5 and response.get_json()["stock"] == 500
    product = world.products.get(1)
    assert product.name == "Alpha Phone 2" and product.price == Decimal("149.50")
    assert product.stock == 500


def test_update_without_key_is_401(client, world, assert_error):
    response = client.put("/products/1", json={"stock": 0})
    assert_error(response, 401, "admin_key_required", "X-Admin-Key")
    assert world.stock(1) == 10


def test_update_with_wrong_key_is_403(client, world, assert_error):
    response = client.put("/products/1", json={"stock": 0}, headers={"X-Admin-Key": "guess"})
    assert_error(response, 403, "admin_key_invalid")
    assert world.stock(1) == 10


def test_update_is_disabled_without_a_configured_key(world, assert_error):
    world.settings = replace(world.settings, admin_api_key=None)
    client = create_app(world.deps()).test_client()

    response = client.put("/products/1", json={"stock": 0}, headers=ADMIN)

    assert_error(response, 403, "admin_disabled")
    assert world.stock(1) == 10


def test_update_unknown_product_is_404(client, assert_error):
    assert_error(client.put("/products/999", json={"stock": 1}, headers=ADMIN), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stock": -1}, "stock"),
        ({"price": "free"}, "price"),
        ({"name": ""}, "name"),
        ({"sku": "x"}, "sku"),
        ({}, None),
    ],
)
def test_update_validates_the_body(client, world, assert_error, body, field):
    error = assert_error(client.put("/products/1", json=body, headers=ADMIN), 422)
    assert error.get("field") == field
    assert world.products.get(1).name == "Alpha Phone"


def test_update_needs_json(client, assert_error):
    response = client.put("/products/1", data="stock=1", headers=ADMIN)
    assert_error(response, 415)
