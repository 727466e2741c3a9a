"""A declined payment ends `failed` and gives the stock back, on every path.

The gateway declines the local stack's test customer (PAYMENT_DECLINE_CUSTOMER_IDS, 4000000002
by default when ENV_NAME=local) while the decline rate stays 0 for everyone else.
"""

from __future__ import annotations

from support.pipeline import Pipeline

from flashsale.settings import LOCAL_DECLINE_CUSTOMER_ID
from flashsale_kit.api import order_body
from flashsale_kit.polling import wait_until

STOCK = 10
QUANTITY = 2
ROUTES = ("sync", "ecs", "lambda")


def test_declined_payments_fail_and_release_the_stock(pipeline: Pipeline) -> None:
    api, tables = pipeline.api, pipeline.tables
    product = pipeline.new_product(stock=STOCK)
    declined_body = order_body(LOCAL_DECLINE_CUSTOMER_ID, product, QUANTITY)
    wanted = [(route, declined_body) for route in ROUTES]
    wanted.append(("ecs", order_body(40_001, product, 1)))  # an ordinary customer: approved
    *declined, control = api.place_many(wanted)

    sync = declined[0]
    assert sync.status_code == 402, sync.body
    assert sync.body["error"]["code"] == "payment_declined"
    assert sync.body["status"] == "failed"
    for answer in declined[1:]:
        assert answer.status_code == 202, answer.body
    assert control.status_code == 202, control.body

    ids = [answer.order_id for answer in (*declined, control)]
    finals = pipeline.wait_terminal(ids, timeout=90)
    assert [finals[answer.order_id] for answer in declined] == ["failed"] * len(ROUTES)
    assert finals[control.order_id] == "completed"

    charges = tables.charges(ids)
    for answer in declined:
        order = api.order(answer.order_id)
        assert order["route"] == answer.route
        assert order["failure_reason"] == "payment_declined"
        assert order["failed_at"] and not order.get("completed_at")
        assert [c.status for c in charges[answer.order_id]] == ["declined"]
    assert [c.status for c in charges[control.order_id]] == ["approved"]
    # every declined reservation comes back; only the approved unit stays sold
    wait_until(lambda: api.stock(product) == STOCK - 1, timeout=20)
