"""Orders through every path (sync, async via ECS, async via Lambda) reach `completed`, each
charged exactly once, with a consistent timeline; an Idempotency-Key replay creates nothing new.

Runs against the pipeline `make up` started (API at API_URL); each test orders a fresh product
of its own, so its stock moves only with the test's orders.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.pipeline import TIMELINE, Pipeline

from flashsale.domain.model import parse_utc
from flashsale_kit.api import Answer, order_body

ASYNC_PER_ROUTE = 100
SYNC_ORDERS = 5
ROUTES = ("sync", "ecs", "lambda")
STOCK = 1_000
#: generous: 100 orders per async route at the platform's concurrency take ~30-40 s
DEADLINE_S = 150


@pytest.fixture(scope="module")
def bulk(pipeline: Pipeline) -> tuple[int, list[Answer]]:
    """100 async orders per route and 5 sync orders of one fresh product, placed concurrently
    (sync first: they hold a payment slot each for 3 s)."""
    product = pipeline.new_product(stock=STOCK)
    wanted = [("sync", order_body(10_000 + i, product)) for i in range(SYNC_ORDERS)]
    wanted += [
        (route, order_body(20_000 + i, product))
        for i in range(ASYNC_PER_ROUTE)
        for route in ("ecs", "lambda")
    ]
    return product, pipeline.api.place_many(wanted, workers=24)


@pytest.fixture(scope="module")
def finals(pipeline: Pipeline, bulk: tuple[int, list[Answer]]) -> dict[str, str]:
    _, placed = bulk
    return pipeline.wait_terminal([p.order_id for p in placed], timeout=DEADLINE_S)


def test_every_order_is_accepted(bulk: tuple[int, list[Answer]]) -> None:
    _, placed = bulk
    assert sorted(p.route for p in placed).count("sync") == SYNC_ORDERS
    for answer in placed:
        if answer.route == "sync":
            assert answer.status_code == 200, answer.body
            assert answer.body["status"] == "completed"
        else:
            assert answer.status_code == 202, answer.body
            assert answer.body["status"] == "pending"
            assert answer.body["route"] == answer.route
            assert answer.body["message_id"]
    assert len({answer.order_id for answer in placed}) == len(placed)


def test_every_order_completes_and_is_charged_once(
    pipeline: Pipeline, bulk: tuple[int, list[Answer]], finals: dict[str, str]
) -> None:
    product, placed = bulk
    assert set(finals.values()) == {"completed"}, {
        status: list(finals.values()).count(status) for status in set(finals.values())
    }
    violations = pipeline.money_violations(finals)
    assert not violations, [str(v) for v in violations[:5]]
    assert pipeline.api.stock(product) == STOCK - len(placed)


def test_orders_show_route_status_and_timestamps_in_order(
    pipeline: Pipeline, bulk: tuple[int, list[Answer]], finals: dict[str, str]
) -> None:
    _, placed = bulk
    orders = pipeline.api.orders(p.order_id for p in placed)
    charges = pipeline.tables.charges(orders)
    for answer in placed:
        order = orders[answer.order_id]
        assert order["route"] == answer.route
        assert order["status"] == "completed"
        assert [c.charge_id for c in charges[answer.order_id]] == [order["payment_id"]]
        assert [c.status for c in charges[answer.order_id]] == ["approved"]
        created, processing, completed = (parse_utc(order[field]) for field in TIMELINE)
        assert created <= processing <= completed, order
        assert "failed_at" not in order or order["failed_at"] is None


def test_idempotency_key_replay_creates_nothing_new(pipeline: Pipeline) -> None:
    """Per route: the same key and body twice -> the first answer again (replayed), one order,
    one charge, the stock moved once; a replay after completion still names the same order."""
    api = pipeline.api
    product = pipeline.new_product(stock=10)
    keys = {route: f"e2e-{route}-{uuid.uuid4()}" for route in ROUTES}
    body = order_body(30_001, product, quantity=2)

    def place_twice(route: str) -> tuple[Answer, Answer]:
        first = api.place(route, body, idempotency_key=keys[route])
        return first, api.place(route, body, idempotency_key=keys[route])

    with ThreadPoolExecutor(len(ROUTES)) as pool:
        pairs = dict(zip(ROUTES, pool.map(place_twice, ROUTES), strict=True))
    for route, (first, retry) in pairs.items():
        assert first.status_code == (200 if route == "sync" else 202), first.body
        assert (retry.status_code, retry.body) == (first.status_code, first.body), route

    order_ids = [first.order_id for first, _ in pairs.values()]
    assert set(pipeline.wait_terminal(order_ids, timeout=60).values()) == {"completed"}
    late = {route: api.place(route, body, idempotency_key=keys[route]) for route in ROUTES}
    assert {route: answer.order_id for route, answer in late.items()} == {
        route: first.order_id for route, (first, _) in pairs.items()
    }
    assert not pipeline.money_violations(order_ids)
    assert api.stock(product) == 10 - 2 * len(ROUTES)
