"""Flash sale: 50 concurrent buyers of 1 unit, 10 in stock -> exactly 10 orders accepted (202),
40 refused (409 out_of_stock), the stock never below 0 and 0 at the end, the 10 completed."""

from __future__ import annotations

import threading
from collections import Counter

from support.pipeline import Pipeline

from flashsale_kit.api import Answer, order_body

STOCK = 10
BUYERS = 50


def test_flash_sale_sells_exactly_the_stock(pipeline: Pipeline) -> None:
    api = pipeline.api
    product = pipeline.new_product(stock=STOCK)
    start = threading.Barrier(BUYERS + 1)
    answers: list[Answer | BaseException] = []
    sampled: list[int] = []
    selling = threading.Event()

    def buy(index: int) -> None:
        route = ("ecs", "lambda")[index % 2]
        start.wait(10)
        try:
            answers.append(api.place(route, order_body(50_000 + index, product)))
        except BaseException as exc:  # reported below, with the answers
            answers.append(exc)

    def sample_stock() -> None:
        while selling.is_set():
            sampled.append(api.stock(product))

    buyers = [threading.Thread(target=buy, args=(i,)) for i in range(BUYERS)]
    sampler = threading.Thread(target=sample_stock)
    selling.set()
    for thread in buyers:
        thread.start()
    sampler.start()
    start.wait(10)
    for thread in buyers:
        thread.join(60)
    selling.clear()
    sampler.join(30)

    failures = [answer for answer in answers if not isinstance(answer, Answer)]
    assert not failures, failures
    codes = Counter(answer.status_code for answer in answers)
    assert codes == {202: STOCK, 409: BUYERS - STOCK}, codes
    refused = [answer.body["error"]["code"] for answer in answers if answer.status_code == 409]
    assert set(refused) == {"out_of_stock"}
    assert sampled and min(sampled) >= 0, sampled
    assert api.stock(product) == 0

    accepted = [answer.order_id for answer in answers if answer.status_code == 202]
    assert set(pipeline.wait_terminal(accepted, timeout=90).values()) == {"completed"}
    assert not pipeline.money_violations(accepted)
    assert api.stock(product) == 0
