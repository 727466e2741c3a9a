"""Idempotency-Key on both POSTs: replay, conflicts, invalid keys."""

from __future__ import annotations

import pytest

from flashsale.domain.model import OrderStatus
from orders_api import idempotency

PATHS = ["/orders/sync", "/orders/async"]


@pytest.mark.parametrize("path", PATHS)
def test_retry_with_same_key_and_body_replays_the_first_answer(client, world, order_body, path):
    headers = {"Idempotency-Key": "retry-1"}

    first = client.post(path, json=order_body(), headers=headers)
    second = client.post(path, json=order_body(), headers=headers)

    assert first.status_code in (200, 202)
    assert second.status_code == first.status_code
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(world.orders.all()) == 1
    assert world.stock(1) == 8
    is_sync = path == "/orders/sync"
    assert len(world.publisher.published) == (0 if is_sync else 1)
    assert len(world.ledger.all()) == (1 if is_sync else 0)


def test_key_order_and_whitespace_of_the_body_do_not_matter(client, world):
    headers = {"Idempotency-Key": "k", "Content-Type": "application/json"}
    first = '{"customer_id": 1, "items": [{"product_id": 1, "quantity": 1}]}'
    second = '{"items":[{"quantity":1,"product_id":1}],"customer_id":1}'

    client.post("/orders/async", data=first, headers=headers)
    replay = client.post("/orders/async", data=second, headers=headers)

    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    assert len(world.orders.all()) == 1


def test_declined_answer_is_replayed_without_a_second_charge(client, world, order_body):
    world.gateway.decline_rate = 1.0
    headers = {"Idempotency-Key": "declined"}

    first = client.post("/orders/sync", json=order_body(), headers=headers)
    second = client.post("/orders/sync", json=order_body(), headers=headers)

    assert first.status_code == second.status_code == 402
    assert second.get_json() == first.get_json()
    assert len(world.orders.all()) == 1 and len(world.ledger.all()) == 1


def test_same_key_with_another_body_is_409(client, world, order_body, assert_error):
    headers = {"Idempotency-Key": "reused"}
    client.post("/orders/async", json=order_body(quantity=1), headers=headers)

    response = client.post("/orders/async", json=order_body(quantity=2), headers=headers)

    assert_error(response, 409, "idempotency_key_reused", "Idempotency-Key")
    assert len(world.orders.all()) == 1


def test_same_key_on_another_endpoint_or_route_is_422(client, order_body, assert_error):
    headers = {"Idempotency-Key": "one-use"}
    client.post("/orders/async", json=order_body(), headers=headers)

    other_path = client.post("/orders/sync", json=order_body(), headers=headers)
    other_route = client.post(
        "/orders/async", json=order_body(), headers={**headers, "X-Processing-Route": "lambda"}
    )

    assert_error(other_path, 409, "idempotency_key_reused")
    assert_error(other_route, 409, "idempotency_key_reused")


def test_key_in_flight_is_409(client, world, order_body, assert_error):
    body = order_body()
    # the same request, claimed by another worker that has not answered yet
    fingerprint = idempotency.fingerprint("POST", "/orders/async", body, route="ecs")
    world.idempotency.begin("busy", fingerprint)

    response = client.post("/orders/async", json=body, headers={"Idempotency-Key": "busy"})

    assert_error(response, 409, "idempotency_key_in_flight", "Idempotency-Key")
    assert world.orders.all() == []


def test_failed_request_releases_its_key_for_a_retry(client, world, order_body, assert_error):
    headers = {"Idempotency-Key": "after-outage"}
    world.publisher.fail_with = "down"
    assert_error(client.post("/orders/async", json=order_body(), headers=headers), 503)

    world.publisher.fail_with = None
    retry = client.post("/orders/async", json=order_body(), headers=headers)

    assert retry.status_code == 202 and "Idempotent-Replayed" not in retry.headers
    statuses = sorted(order.status for order in world.orders.all())
    assert statuses == [OrderStatus.FAILED, OrderStatus.PENDING]
    assert world.stock(1) == 8


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\there", "caf\u00e9"])
def test_invalid_key_is_400(client, world, order_body, assert_error, key):
    headers = {"Idempotency-Key": key.encode("utf-8").decode("latin-1")}

    response = client.post("/orders/async", json=order_body(), headers=headers)

    assert_error(response, 400, "invalid_idempotency_key", "Idempotency-Key")
    assert world.orders.all() == []
