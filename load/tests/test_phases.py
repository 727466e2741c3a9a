import random

import pytest

from flashsale_load.phases import PHASES, ROUTE_HEADER, order_body, phase


def test_order_bodies_match_the_original_load_scripts():
    rng = random.Random(3)
    for _ in range(500):
        body = order_body(rng)
        assert 1 <= body["customer_id"] <= 10_000
        assert 1 <= len(body["items"]) <= 3
        for item in body["items"]:
            assert 1 <= item["product_id"] <= 1000
            assert 1 <= item["quantity"] <= 5
            assert item["price"] > 0


def test_phases_route_and_accepted_status():
    assert phase("sync").path == "/orders/sync" and phase("sync").accepted_status == 200
    assert phase("sync").is_answer(402)  # a declined payment is an answer, not an error
    assert phase("async-ecs").headers == {ROUTE_HEADER: "ecs"}
    assert phase("async-lambda").headers == {ROUTE_HEADER: "lambda"}
    assert not phase("async-ecs").is_answer(500)
    assert len({p.request_name for p in PHASES.values()}) == 3
    with pytest.raises(ValueError, match="unknown phase"):
        phase("batch")
