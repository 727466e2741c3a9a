"""Building a backlog: place N async orders through the API as fast as a few threads can."""

from __future__ import annotations

import random
from dataclasses import dataclass

from flashsale_kit.api import Api
from flashsale_load.phases import order_body


@dataclass(frozen=True)
class Backlog:
    order_ids: tuple[str, ...]
    rejected: int


def place_orders(api_url: str, route: str, count: int, workers: int = 8, seed: int = 1) -> Backlog:
    """POST `count` orders to /orders/async with `X-Processing-Route: route`."""
    rng = random.Random(seed)
    api = Api(api_url, pool=workers)
    try:
        answers = api.place_many([(route, order_body(rng)) for _ in range(count)], workers)
    finally:
        api.close()
    ids = tuple(a.order_id for a in answers if a.accepted and isinstance(a.order_id, str))
    return Backlog(ids, count - len(ids))
