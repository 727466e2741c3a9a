"""POST /orders/sync, POST /orders/async and GET /orders/<id> over the in-memory fakes."""

from __future__ import annotations

from flashsale.domain.model import OrderStatus, Route
from flashsale.events import decode


def test_sync_order_is_paid_and_completed(client, world, order_body):
    response = client.post("/orders/sync", json=order_body(product_id=1, quantity=2))

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "completed" and body["message"]
    assert body["total"] == 399.98 and body["route"] == "sync"
    order = world.orders.get(body["order_id"])
    assert order.status is OrderStatus.COMPLETED and order.payment_id == body["payment_id"]
    assert world.stock(1) == 8
    assert len(world.ledger.charges(body["order_id"])) == 1
    assert world.publisher.published == []


def test_client_sent_price_is_accepted_and_ignored(client):
    body = {"customer_id": 5, "items": [{"product_id": 2, "quantity": 1, "price": 0.01}]}

    response = client.post("/orders/sync", json=body)

    assert response.status_code == 200
    assert response.get_json()["items"] == [{"product_id": 2, "quantity": 1, "unit_price": 12.5}]


def test_declined_sync_order_is_402_and_releases_stock(client, world, order_body, assert_error):
    world.gateway.decline_rate = 1.0

    response = client.post("/orders/sync", json=order_body(product_id=1, quantity=3))

    assert_error(response, 402, "payment_declined")
    body = response.get_json()
    assert body["status"] == "failed"
    order = world.orders.get(body["order_id"])
    assert order.status is OrderStatus.FAILED and order.stock_released
    assert world.stock(1) == 10


def test_gateway_error_is_503_and_fails_the_order(client, world, order_body, assert_error):
    world.gateway.error_rate = 1.0

    response = client.post("/orders/sync", json=order_body(product_id=1, quantity=3))

    assert_error(response, 503, "payment_unavailable")
    assert response.headers["Retry-After"]
    [order] = world.orders.all()
    assert order.status is OrderStatus.FAILED and order.failure_reason == "payment_unavailable"
    assert world.stock(1) == 10
    assert world.ledger.all() == []


def test_an_unknown_payment_outcome_is_202_pending_and_keeps_the_stock(client, world, order_body):
    """The charge went through but its answer was lost: the order may be charged, so it is
    neither failed nor released; the client gets the status URL to follow it."""
    world.gateway.lost_answer_rate = 1.0

    response = client.post("/orders/sync", json=order_body(product_id=1, quantity=3))

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "processing" and "pending" in body["message"]
    assert body["status_url"] == f"/orders/{body['order_id']}"
    document = client.get("/openapi.json").get_json()
    documented = document["paths"]["/orders/sync"]["post"]["responses"]["202"]
    assert documented["content"]["application/json"]["schema"]["$ref"].endswith("PaymentPending")
    assert set(document["components"]["schemas"]["PaymentPending"]["required"]) <= set(body)
    order = world.orders.get(body["order_id"])
    assert order.status is OrderStatus.PROCESSING and not order.stock_released
    assert world.stock(1) == 7
    [charge] = world.ledger.charges(body["order_id"])
    assert charge.status == "approved"
    assert client.get(body["status_url"]).get_json()["status"] == "processing"


def test_a_failed_ledger_write_is_not_taken_for_no_charge(client, world, order_body):
    world.ledger.fail_with, world.ledger.fail_after_write = ConnectionError("timeout"), True

    response = client.post("/orders/sync", json=order_body(product_id=1, quantity=3))

    assert response.status_code == 202
    assert world.orders.get(response.get_json()["order_id"]).status is OrderStatus.PROCESSING
    assert world.stock(1) == 7


def test_async_order_is_published_with_its_route(client, world, order_body):
    response = client.post("/orders/async", json=order_body(product_id=2, quantity=2))

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending" and body["message"] and body["route"] == "ecs"
    [(message_id, event, wire, attributes)] = world.publisher.published
    assert body["message_id"] == message_id and event.order_id == body["order_id"]
    assert decode(wire).route is Route.ECS
    assert attributes["route"]["StringValue"] == "ecs"
    assert world.orders.get(body["order_id"]).status is OrderStatus.PENDING
    assert world.stock(2) == 0
    assert world.ledger.all() == []


def test_route_header_selects_lambda(client, world, order_body):
    headers = {"X-Processing-Route": "lambda"}

    response = client.post("/orders/async", json=order_body(), headers=headers)

    assert response.status_code == 202
    assert world.publisher.events[0].route is Route.LAMBDA
    assert world.orders.get(response.get_json()["order_id"]).route is Route.LAMBDA


def test_default_route_comes_from_settings(world, order_body):
    from dataclasses import replace

    from orders_api import create_app

    world.settings = replace(world.settings, default_route="lambda")
    client = create_app(world.deps()).test_client()

    assert client.post("/orders/async", json=order_body()).status_code == 202
    assert world.publisher.events[0].route is Route.LAMBDA


def test_unknown_route_header_is_400(client, world, order_body, assert_error):
    for route in ("sync", "batch"):
        response = client.post(
            "/orders/async", json=order_body(), headers={"X-Processing-Route": route}
        )
        assert_error(response, 400, "invalid_route", "X-Processing-Route")
    assert world.orders.all() == []


def test_publish_failure_fails_the_order_and_releases_stock(
    client, world, order_body, assert_error
):
    world.publisher.fail_with = "topic unreachable"

    response = client.post("/orders/async", json=order_body(product_id=1, quantity=4))

    assert_error(response, 503, "publish_failed")
    assert response.headers["Retry-After"]
    [order] = world.orders.all()
    assert order.status is OrderStatus.FAILED and order.failure_reason == "publish_failed"
    assert order.stock_released and world.stock(1) == 10


def test_unknown_product_is_409_and_writes_nothing(client, world, order_body, assert_error):
    for path in ("/orders/sync", "/orders/async"):
        response = client.post(path, json=order_body(product_id=999))
        assert_error(response, 409, "unknown_product", "items")
    assert world.orders.all() == []


def test_sold_out_is_409_and_writes_nothing(client, world, order_body, assert_error):
    body = {
        "customer_id": 1,
        "items": [{"product_id": 1, "quantity": 1}, {"product_id": 2, "quantity": 3}],
    }
    for path in ("/orders/sync", "/orders/async"):
        assert_error(client.post(path, json=body), 409, "out_of_stock", "items")
    assert_error(client.post("/orders/async", json=order_body(3, 1)), 409, "out_of_stock")
    assert world.orders.all() == [] and world.stock(1) == 10 and world.stock(2) == 2


def test_repeated_product_lines_are_reserved_together(client, world, assert_error):
    body = {"customer_id": 1, "items": [{"product_id": 2, "quantity": 1}] * 3}
    assert_error(client.post("/orders/async", json=body), 409, "out_of_stock")

    body["items"] = body["items"][:2]
    response = client.post("/orders/async", json=body)
    assert response.status_code == 202
    assert world.stock(2) == 0


def test_get_order_shows_status_route_items_and_timestamps(client, order_body):
    order_id = client.post("/orders/async", json=order_body()).get_json()["order_id"]

    response = client.get(f"/orders/{order_id}")

    assert response.status_code == 200
    body = response.get_json()
    assert body["order_id"] == order_id and body["status"] == "pending"
    assert body["route"] == "ecs" and body["total"] == 399.98
    assert body["items"] == [{"product_id": 1, "quantity": 2, "unit_price": 199.99}]
    assert body["created_at"].endswith("Z") and body["updated_at"]


def test_get_unknown_order_is_404(client, assert_error):
    assert_error(client.get("/orders/0e5c1c52-1b1a-4f7e-9d8e-000000000000"), 404, "order_not_found")
    assert_error(client.get("/orders/" + "x" * 300), 404)
    assert_error(client.get("/orders/a%20b"), 404)
