"""At-least-once delivery never charges twice: the same OrderPlaced event published again
(flashsale.events.encode, as the API publishes it) is handled by its consumer and changes
nothing; a pending order published to both consumers' paths at once is charged once.

"Handled" is read from the consumers' own logs (one `order processed` line per message), so the
tests wait for the duplicate to be consumed instead of sleeping.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from support.pipeline import Pipeline

from flashsale_kit.api import order_body
from flashsale_kit.events import order_placed
from flashsale_kit.polling import wait_until

ASYNC_ROUTES = ("ecs", "lambda")
#: the Lambda's logs arrive when its invocation ends; a busy platform takes a while
HANDLED_TIMEOUT_S = 90


def _marks(pipeline: Pipeline) -> dict[str, int]:
    return {"ecs": pipeline.processor_log.mark(), "lambda": pipeline.lambda_log.mark()}


def _handled(pipeline: Pipeline, route: str, order_id: str, since: int) -> int:
    return len(pipeline.handled(route, order_id, since))


def _wait_handled(pipeline: Pipeline, route: str, order_id: str, since: int, times: int) -> None:
    wait_until(
        lambda: _handled(pipeline, route, order_id, since) >= times,
        timeout=HANDLED_TIMEOUT_S,
        interval=0.5,
    )


@pytest.fixture(scope="module")
def completed(pipeline: Pipeline) -> dict[str, tuple[str, dict[str, int]]]:
    """route -> (a completed order of that route, the log marks taken before it was placed)."""
    product = pipeline.new_product(stock=10)
    marks = _marks(pipeline)
    placed = pipeline.api.place_many(
        [(route, order_body(60_000 + i, product)) for i, route in enumerate(ASYNC_ROUTES)]
    )
    ids = [answer.order_id for answer in placed]
    assert set(pipeline.wait_terminal(ids, timeout=90).values()) == {"completed"}
    return {answer.route: (answer.order_id, marks) for answer in placed}


@pytest.mark.parametrize("route", ASYNC_ROUTES)
def test_a_completed_order_delivered_again_is_not_charged_again(
    pipeline: Pipeline, completed: dict[str, tuple[str, dict[str, int]]], route: str
) -> None:
    order_id, marks = completed[route]
    _wait_handled(pipeline, route, order_id, marks[route], times=1)  # the first delivery
    before = pipeline.api.order(order_id)
    seen = _handled(pipeline, route, order_id, marks[route])

    pipeline.publish(order_placed(before))
    _wait_handled(pipeline, route, order_id, marks[route], times=seen + 1)

    again = pipeline.handled(route, order_id, marks[route])[-1]
    # the consumer knew it for a repeat: the processor flags it, the Lambda's idempotency
    # layer answers it from its store
    outcome = again if route == "ecs" else again["outcome"]
    assert outcome.get("duplicate") is True, again
    after = pipeline.api.order(order_id)
    assert after == before
    assert after["status"] == "completed"
    assert not pipeline.money_violations([order_id])


def test_a_pending_order_sent_down_both_paths_is_charged_once(pipeline: Pipeline) -> None:
    """The ECS order's event is published again with route=lambda at once, so the processor
    and the Lambda both get the order while it is pending or processing."""
    api, tables = pipeline.api, pipeline.tables
    product = pipeline.new_product(stock=10)
    marks = _marks(pipeline)
    placed = api.place("ecs", order_body(61_000, product))
    assert placed.status_code == 202, placed.body
    pipeline.publish(order_placed(api.order(placed.order_id), "lambda"))
    order_id = placed.order_id

    assert pipeline.wait_terminal([order_id], timeout=90) == {order_id: "completed"}
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda route: _wait_handled(pipeline, route, order_id, marks[route], times=1),
                ASYNC_ROUTES,
            )
        )
    order = api.order(order_id)
    assert order["status"] == "completed" and order["route"] == "ecs"
    charges = tables.charges([order_id])[order_id]
    assert len(charges) == 1, f"charged {len(charges)} times: {charges}"
    assert charges[0].charge_id == order["payment_id"]
    assert api.stock(product) == 9
