"""Liveness, readiness and the OpenAPI document."""

from __future__ import annotations

from openapi_spec_validator import validate

ADMIN_KEY = "test-admin-key"  # the conftest settings' key


def test_health_touches_nothing(client, world):
    world.readiness.problems = {"orders_table": "unreachable"}
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "healthy"}


def test_ready_tells_anonymous_callers_only_ready(client):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_ready_details_need_the_admin_key(client, world):
    wrong = client.get("/ready", headers={"X-Admin-Key": "not-the-key"})
    assert "checks" not in wrong.get_json()

    response = client.get("/ready", headers={"X-Admin-Key": ADMIN_KEY})

    assert response.get_json() == {
        "status": "ready",
        "checks": {"orders_table": "ok", "order_topic": "ok"},
    }


def test_not_ready_names_nothing_to_anonymous_callers(client, world):
    world.readiness.problems["order_topic"] = "NotFound: topic local-order-events does not exist"

    response = client.get("/ready")

    assert response.status_code == 503 and response.headers["Retry-After"]
    body = response.get_json()
    assert body["status"] == "unavailable" and "checks" not in body
    assert "order" not in response.get_data(as_text=True)  # no name, no AWS error text


def test_not_ready_names_what_is_down_for_the_admin_key(client, world):
    world.readiness.problems["order_topic"] = "NotFound: topic does not exist"

    response = client.get("/ready", headers={"X-Admin-Key": ADMIN_KEY})

    assert response.status_code == 503 and response.headers["Retry-After"]
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["order_topic"].startswith("NotFound")
    assert "order_topic" in body["error"]["message"]


def test_openapi_document_is_valid_and_complete(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert {
        "/orders/sync",
        "/orders/async",
        "/orders/{order_id}",
        "/products",
        "/products/search",
        "/products/{product_id}",
        "/health",
        "/ready",
    } <= set(spec["paths"])
    request_schema = spec["components"]["schemas"]["OrderRequest"]
    assert set(request_schema["required"]) == {"customer_id", "items"}
    responses = spec["paths"]["/orders/async"]["post"]["responses"]
    assert {"202", "400", "409", "413", "415", "422", "503"} <= set(responses)
    assert "unknown_product" in responses["409"]["description"]
