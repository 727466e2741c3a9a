"""Building a backlog: place N async orders through the API as fast as a few threads can."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from flashsale_load.phases import ROUTE_HEADER, order_body


@dataclass(frozen=True)
class Backlog:
    order_ids: tuple[str, ...]
    rejected: int


def place_orders(api_url: str, route: str, count: int, workers: int = 8, seed: int = 1) -> Backlog:
    """POST `count` orders to /orders/async with `X-Processing-Route: route`."""
    rng = random.Random(seed)
    bodies = [order_body(rng) for _ in range(count)]
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=workers))
    url = f"{api_url.rstrip('/')}/orders/async"

    def place(body: dict) -> str | None:
        try:
            response = session.post(url, json=body, headers={ROUTE_HEADER: route}, timeout=30)
        except requests.RequestException:
            return None
        if response.status_code != 202:
            return None
        order_id = response.json().get("order_id")
        return order_id if isinstance(order_id, str) else None

    try:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(place, bodies))
    finally:
        session.close()
    ids = tuple(order_id for order_id in results if order_id)
    return Backlog(ids, count - len(ids))
