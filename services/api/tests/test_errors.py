"""Bad input and dependency outages: always a JSON error with the right status, never a 500."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from orders_api import create_app

JSON = {"Content-Type": "application/json"}
POSTS = ["/orders/sync", "/orders/async"]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(
    "raw",
    ['{"customer_id": 1,', "not json", "", '{"customer_id": NaN}', b"\xff\xfe{}", "[1, 2]", '"s"'],
)
def test_malformed_json_is_400(client, world, assert_error, path, raw):
    response = client.post(path, data=raw, headers=JSON)
    assert_error(response, 400, "malformed_json")
    assert world.orders.all() == []


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(client, assert_error, path, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = '{"customer_id": 1, "items": [{"product_id": 1, "quantity": 1}]}'
    assert_error(client.post(path, data=body, headers=headers), 415, "unsupported_media_type")


def test_body_over_the_limit_is_413(client, world, assert_error):
    items = [{"product_id": 1, "quantity": 1, "price": 1.0}] * 5000
    response = client.post("/orders/async", json={"customer_id": 1, "items": items})
    assert_error(response, 413)
    assert world.orders.all() == []


BAD_BODIES = [
    ({"items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
    ({"customer_id": 0, "items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
    ({"customer_id": "abc", "items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
    ({"customer_id": 1.5, "items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
    ({"customer_id": True, "items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
    ({"customer_id": 10**40, "items": [{"product_id": 1, "quantity": 1}]}, "customer_id"),
    ({"customer_id": 1}, "items"),
    ({"customer_id": 1, "items": []}, "items"),
    ({"customer_id": 1, "items": "all"}, "items"),
    ({"customer_id": 1, "items": [{"product_id": 1, "quantity": 1}] * 51}, "items"),
    ({"customer_id": 1, "items": [{"quantity": 1}]}, "items.0.product_id"),
    ({"customer_id": 1, "items": [{"product_id": -1, "quantity": 1}]}, "items.0.product_id"),
    ({"customer_id": 1, "items": [{"product_id": 10**30, "quantity": 1}]}, "items.0.product_id"),
    ({"customer_id": 1, "items": [{"product_id": 1, "quantity": 0}]}, "items.0.quantity"),
    ({"customer_id": 1, "items": [{"product_id": 1, "quantity": 1001}]}, "items.0.quantity"),
    ({"customer_id": 1, "items": [{"product_id": 1, "quantity": "2"}]}, "items.0.quantity"),
    (
        {"customer_id": 1, "items": [{"product_id": 1, "quantity": 1, "price": "x"}]},
        "items.0.price",
    ),
    (
        {"customer_id": 1, "items": [{"product_id": 1, "quantity": 1, "colour": 1}]},
        "items.0.colour",
    ),
    ({"customer_id": 1, "items": [1]}, "items.0"),
    ({"customer_id": 1, "items": [{"product_id": 1, "quantity": 1}], "coupon": "X"}, "coupon"),
]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_schema_errors_are_422_naming_the_field(client, world, assert_error, path, body, field):
    response = client.post(path, json=body)
    assert_error(response, 422, field=field)
    assert world.orders.all() == []


def test_unknown_route_is_json_404(client, assert_error):
    assert_error(client.get("/nope"), 404)
    assert_error(client.get("/products/abc"), 404)


def test_wrong_method_is_json_405(client, assert_error):
    response = client.get("/orders/sync")
    assert_error(response, 405)
    assert "POST" in response.headers["Allow"]
    assert_error(client.delete("/products/1"), 405)


class _Broken:
    """Stands in for any adapter: every call raises the given exception."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise self.exc

        return fail


def _client_error(code: str, status: int = 400) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "Operation")


OUTAGES = [
    EndpointConnectionError(endpoint_url="http://127.0.0.1:4567"),
    ReadTimeoutError(endpoint_url="http://127.0.0.1:4567"),
    _client_error("ProvisionedThroughputExceededException"),
    _client_error("ThrottlingException"),
    _client_error("InternalServerError", 500),
]


@pytest.mark.parametrize("exc", OUTAGES, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(
    ("store", "method", "path"),
    [
        ("products", "post", "/orders/async"),
        ("orders", "post", "/orders/sync"),
        ("orders", "get", "/orders/0e5c1c52-1b1a-4f7e-9d8e-000000000000"),
        ("products", "get", "/products/1"),
        ("products", "get", "/products/search?q=phone"),
        ("idempotency", "post", "/orders/async"),
    ],
)
def test_dependency_outage_is_503_with_retry_after(
    world, order_body, assert_error, exc, store, method, path
):
    setattr(world, store, _Broken(exc))
    client = create_app(world.deps()).test_client()
    kwargs = {"json": order_body(), "headers": {"Idempotency-Key": "k"}} if method == "post" else {}

    response = getattr(client, method)(path, **kwargs)

    assert_error(response, 503)
    assert int(response.headers["Retry-After"]) > 0


def test_unexpected_dependency_error_is_json_500(world, assert_error):
    world.products = _Broken(_client_error("ValidationException"))
    response = create_app(world.deps()).test_client().get("/products/1")
    assert_error(response, 500, "internal_error")


class _OrdersDownAtPayment:
    """The order store works until the payment tries to start, then DynamoDB is unreachable."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.down = True

    def claim(self, order_id, terms, **fields):
        if self.down:
            self.down = False  # back for the compensation
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4567")
        return self.inner.claim(order_id, terms, **fields)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_outage_before_a_sync_payment_fails_the_order_and_frees_stock(
    world, order_body, assert_error
):
    real_orders = world.orders
    world.orders = _OrdersDownAtPayment(real_orders)
    client = create_app(world.deps()).test_client()

    response = client.post("/orders/sync", json=order_body(product_id=1, quantity=4))

    assert_error(response, 503)
    [order] = real_orders.all()
    assert order.status == "failed" and order.failure_reason == "payment_not_started"
    assert world.stock(1) == 10 and world.ledger.all() == []


def test_a_chunked_body_over_the_limit_is_413_and_under_it_is_read_whole(client):
    from orders_api.http import MAX_CONTENT_LENGTH

    body = b'{"customer_id": 1, "items": []}'

    def post(data: bytes):
        return client.post(
            "/orders/async",
            input_stream=io.BytesIO(data),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        )

    too_big = post(body + b" " * MAX_CONTENT_LENGTH)
    assert too_big.status_code == 413
    assert too_big.get_json()["error"]["code"] == "request_entity_too_large"
    assert post(body).status_code == 422  # read whole, then validated: empty item list
