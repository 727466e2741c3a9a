"""Bad input against the API's own OpenAPI document (schemathesis), in process, over the fakes.

The app is the real Flask app (`orders_api.create_app`) over the shared in-memory fakes, so no
platform is needed. Whatever schemathesis sends (valid, invalid, or mangled by its negative
mode), the API must never answer 500, never hang (the test's timeout), and a rejected request
must leave nothing behind: no order, no stock moved. After every request the books balance:
initial stock = stock left + units held by orders that were not failed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
from flashsale.domain.model import OrderStatus, Product
from flashsale.services.payments import PaymentDeps
from flashsale.services.reservations import Reserver
from flashsale.settings import Settings
from flashsale_testing import memory
from orders_api import ApiDeps, create_app
from orders_api.http import MAX_CONTENT_LENGTH

ADMIN_KEY = "schemathesis-admin-key"
#: Small ids, so generated product ids often hit real products (and their stock).
CATALOG = [Product(pid, f"Item {pid}", Decimal("2.50"), 20, "cat", "desc") for pid in range(1, 6)]
MAX_EXAMPLES = 40
#: Rejections that still record the (failed, stock released) order they decided.
DECIDED_FAILURES = {402, 503}


class Ready:
    def check(self) -> dict[str, str | None]:
        return {"orders_table": None, "order_topic": None}


@dataclass
class World:
    products: memory.InMemoryProductStore
    orders: memory.InMemoryOrderStore
    ledger: memory.InMemoryPaymentLedger
    initial: dict[int, int]

    @classmethod
    def new(cls) -> World:
        products = memory.InMemoryProductStore(CATALOG)
        return cls(
            products,
            memory.InMemoryOrderStore(products),
            memory.InMemoryPaymentLedger(),
            {p.product_id: p.stock for p in CATALOG},
        )

    def deps(self) -> ApiDeps:
        gateway = SimulatedPaymentGateway(
            self.ledger, latency=0, decline_rate=0.2, rng=random.Random(3)
        )
        return ApiDeps(
            settings=Settings(admin_api_key=ADMIN_KEY, payment_latency_seconds=0),
            orders=self.orders,
            reserver=Reserver(memory.InMemoryReservationStore(self.orders)),
            products=self.products,
            publisher=memory.InMemoryEventPublisher(),
            idempotency=memory.InMemoryIdempotencyStore(),
            payment=PaymentDeps(orders=self.orders, gateway=gateway),
            readiness=Ready(),
        )

    def stock(self) -> dict[int, int]:
        return {pid: self.products.get(pid).stock for pid in self.initial}  # type: ignore[union-attr]

    def order_ids(self) -> set[str]:
        return {order.order_id for order in self.orders.all()}

    def unbalanced(self) -> dict[int, tuple[int, int, int]]:
        """Products whose initial stock != stock left + units of the orders that did not fail."""
        held = dict.fromkeys(self.initial, 0)
        for order in self.orders.all():
            if order.status is OrderStatus.FAILED:  # its units must be back
                continue
            for pid, quantity in order.quantities().items():
                if pid in held:
                    held[pid] += quantity
        stock = self.stock()
        return {
            pid: (self.initial[pid], stock[pid], held[pid])
            for pid in self.initial
            if self.initial[pid] != stock[pid] + held[pid]
        }


#: One app over one world for the module: schemathesis loads the document from the app itself.
WORLD = World.new()
schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app(WORLD.deps()))


@pytest.fixture
def world() -> World:
    return WORLD


# The PUT /products/{id} stock admin updates move stock on purpose: the books are re-based then.
_ADMIN_PATH = "/products/{product_id}"


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@pytest.mark.timeout(240)
def test_no_input_yields_a_500_or_a_partial_write(case: schemathesis.Case, world: World) -> None:
    admin_update = case.operation.path == _ADMIN_PATH and case.method.upper() == "PUT"
    # Half of the admin updates carry the real key, so the update path runs too.
    if admin_update and case.headers and random.Random(repr(case.body)).random() < 0.5:
        case.headers["X-Admin-Key"] = ADMIN_KEY
    stock, orders = world.stock(), world.order_ids()
    response = case.call()
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
    if response.status_code >= 400:
        assert world.stock() == stock, f"{response.status_code}, yet stock moved"
        for order_id in world.order_ids() - orders:
            # A declined sync payment (402) or a failed publish (503) records the failed order.
            order = world.orders.get(order_id)
            assert response.status_code in DECIDED_FAILURES, f"{response.status_code} wrote"
            assert order.status is OrderStatus.FAILED and order.stock_released, order
    if case.operation.path == _ADMIN_PATH and response.status_code == 200:
        # the books move by what the request asked for, not by what the store now shows
        requested = case.body.get("stock") if isinstance(case.body, dict) else None
        pid = int(case.path_parameters["product_id"])
        if requested is not None and pid in world.initial:
            world.initial[pid] += requested - stock[pid]
    assert not world.unbalanced(), world.unbalanced()


# -- bad input the document cannot describe --------------------------------------------------

ORDER_PATHS = st.sampled_from(["/orders/sync", "/orders/async"])
GOOD_ORDER = {"customer_id": 7, "items": [{"product_id": 1, "quantity": 1}]}
HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


def _refused(world: World, response: TestResponse, status: set[int]) -> dict:
    """A JSON error with one of `status`, and nothing written: a fresh world's stock is still
    the catalog's, and it holds no order."""
    assert response.status_code in status, (response.status_code, response.get_data()[:200])
    assert response.mimetype == "application/json"
    assert world.stock() == world.initial and not world.orders.all()
    return response.get_json()["error"]


@HYPOTHESIS
@given(path=ORDER_PATHS, extra=st.integers(min_value=1, max_value=MAX_CONTENT_LENGTH))
def test_a_body_over_the_limit_is_413(path: str, extra: int) -> None:
    world = World.new()
    client = create_app(world.deps()).test_client()
    body = b'{"customer_id": 7, "pad": "' + b"x" * (MAX_CONTENT_LENGTH + extra) + b'"}'
    response = client.post(path, data=body, content_type="application/json")
    _refused(world, response, {413})


@HYPOTHESIS
@given(
    path=ORDER_PATHS, depth=st.integers(min_value=1, max_value=20_000), kind=st.sampled_from("[{")
)
def test_deeply_nested_json_is_refused_not_crashed_on(path: str, depth: int, kind: str) -> None:
    world = World.new()
    client = create_app(world.deps()).test_client()
    nest = "[" * depth + "]" * depth if kind == "[" else '{"a":' * depth + "1" + "}" * depth
    for body in (nest, '{"customer_id": 7, "items": ' + nest + "}"):
        if len(body) > MAX_CONTENT_LENGTH:
            continue
        response = client.post(path, data=body, content_type="application/json")
        _refused(world, response, {400, 422})


@HYPOTHESIS
@given(
    path=ORDER_PATHS,
    content_type=st.text(max_size=40).filter(lambda t: "json" not in t.lower())
    | st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]),
)
def test_a_body_that_is_not_declared_json_is_415(path: str, content_type: str) -> None:
    world = World.new()
    client = create_app(world.deps()).test_client()
    try:
        headers = Headers({"Content-Type": content_type})
    except ValueError:  # a value werkzeug itself cannot send (e.g. a newline)
        return
    response = client.post(path, data=json.dumps(GOOD_ORDER), headers=headers)
    _refused(world, response, {400, 415})


@HYPOTHESIS
@given(path=ORDER_PATHS, raw=st.binary(min_size=1, max_size=300))
def test_bytes_that_are_not_utf8_json_are_400(path: str, raw: bytes) -> None:
    try:
        json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        pass
    else:
        return  # valid JSON by chance: the schema tests cover it
    world = World.new()
    client = create_app(world.deps()).test_client()
    response = client.post(path, data=raw, content_type="application/json")
    _refused(world, response, {400})


BAD_KEYS = (
    st.text(min_size=1, max_size=40).filter(lambda k: not all("!" <= c <= "~" for c in k))
    | st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=256)
    | st.sampled_from(["a\r\nSet-Cookie: x=1", "k\nX-Injected: 1", "k\r\n\r\n{}", "k\x00"])
)


@HYPOTHESIS
@given(path=ORDER_PATHS, key=BAD_KEYS)
def test_an_unusable_idempotency_key_is_400_and_never_echoed(path: str, key: str) -> None:
    world = World.new()
    client = create_app(world.deps()).test_client()
    environ = {"HTTP_IDEMPOTENCY_KEY": key}  # raw, as a front server would hand it on
    response = client.post(path, json=GOOD_ORDER, environ_overrides=environ)
    error = _refused(world, response, {400})
    assert error["field"] == "Idempotency-Key"
    names = {name.lower() for name, _ in response.headers.items()}
    values = [value for _, value in response.headers.items()]
    assert "x-injected" not in names and "set-cookie" not in names
    assert not any("\r" in value or "\n" in value for value in values)  # no header injection
    assert key not in values
    if len(key.strip()) >= 8:  # long enough not to occur in any error text by chance
        assert key not in response.get_data(as_text=True)  # never echoed


@HYPOTHESIS
@given(
    path=ORDER_PATHS,
    key=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1),
    retries=st.integers(min_value=1, max_value=4),
)
def test_a_retried_idempotency_key_replays_and_writes_once(
    path: str, key: str, retries: int
) -> None:
    world = World.new()
    client = create_app(world.deps()).test_client()
    key = key[:255]
    first = client.post(path, json=GOOD_ORDER, headers={"Idempotency-Key": key})
    assert first.status_code in {200, 202, 402}, first.get_json()
    for _ in range(retries):
        again = client.post(path, json=GOOD_ORDER, headers={"Idempotency-Key": key})
        assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
        assert again.headers["Idempotent-Replayed"] == "true"
    assert len(world.orders.all()) == 1
    assert not world.unbalanced()
