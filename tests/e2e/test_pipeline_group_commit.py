"""Coalesced reservations on the running stack: a flash sale whose buyers share reservation
writes still sells exactly the stock, and a price change reaches the next order in every API
worker (their cached prices are checked inside the write)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests
from support.pipeline import Pipeline

from flashsale_kit.api import Answer, order_body

STOCK = 37
BUYERS = 200


def batch_sizes(pipeline: Pipeline, order_ids: list[str]) -> list[int]:
    """The size of the reservation write that placed each order (recorded on its item)."""
    sizes = []
    for order_id in order_ids:
        item = pipeline.tables.ddb.get_item(
            TableName=pipeline.tables.settings.orders_table,
            Key={"order_id": {"S": order_id}},
            ProjectionExpression="reservation_batch_size",
            ConsistentRead=True,
        ).get("Item")
        assert item is not None, f"accepted order {order_id} is not in the table"
        sizes.append(int(item["reservation_batch_size"]["N"]))
    return sizes


def test_coalesced_flash_sale_sells_exactly_the_stock(pipeline: Pipeline) -> None:
    api = pipeline.api
    product = pipeline.new_product(stock=STOCK)
    start = threading.Barrier(BUYERS + 1)
    answers: list[Answer | BaseException] = []

    def buy(index: int) -> None:
        start.wait(30)
        try:
            answers.append(api.place("ecs", order_body(60_000 + index, product)))
        except BaseException as exc:  # reported below, with the answers
            answers.append(exc)

    buyers = [threading.Thread(target=buy, args=(i,)) for i in range(BUYERS)]
    for thread in buyers:
        thread.start()
    start.wait(30)
    for thread in buyers:
        thread.join(120)

    failures = [answer for answer in answers if not isinstance(answer, Answer)]
    assert not failures, failures[:3]
    codes = Counter(answer.status_code for answer in answers)
    assert codes == {202: STOCK, 409: BUYERS - STOCK}, codes
    refused = {answer.body["error"]["code"] for answer in answers if answer.status_code == 409}
    assert refused == {"out_of_stock"}
    assert api.stock(product) == 0

    accepted = [answer.order_id for answer in answers if answer.status_code == 202]
    assert len(set(accepted)) == STOCK
    assert max(batch_sizes(pipeline, accepted)) > 1, "no two buyers shared a reservation write"
    assert set(pipeline.wait_terminal(accepted, timeout=120).values()) == {"completed"}
    assert not pipeline.money_violations(accepted)
    assert api.stock(product) == 0


def test_a_price_change_prices_the_next_orders_in_every_worker(pipeline: Pipeline) -> None:
    api = pipeline.api
    product = pipeline.new_product(stock=100, price="9.99")

    def place_fresh(customer: int) -> dict:
        # a connection of its own each time, so the orders spread over the API's workers
        response = requests.post(
            f"{api.url}/orders/async", json=order_body(customer, product), timeout=30
        )
        assert response.status_code == 202, response.text
        return api.order(response.json()["order_id"])

    with ThreadPoolExecutor(8) as pool:  # every worker caches the old price
        before = list(pool.map(place_fresh, range(70_000, 70_008)))
    assert {order["total"] for order in before} == {9.99}

    response = api.session.put(
        f"{api.url}/products/{product}",
        json={"price": 12.34},
        headers={"X-Admin-Key": api.admin_key},
        timeout=10,
    )
    assert response.status_code == 200, response.text

    with ThreadPoolExecutor(8) as pool:
        after = list(pool.map(place_fresh, range(70_100, 70_108)))
    assert {order["items"][0]["unit_price"] for order in after} == {12.34}
    assert {Decimal(str(order["total"])) for order in after} == {Decimal("12.34")}
    assert api.stock(product) == 100 - 16
