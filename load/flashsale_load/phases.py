"""The three processing paths under test and the order requests the original clients send."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

ROUTE_HEADER = "X-Processing-Route"


@dataclass(frozen=True)
class Phase:
    """One way of processing an order: the endpoint, its headers, what an accepted answer is."""

    name: str
    path: str
    accepted_status: int
    headers: dict[str, str] = field(default_factory=dict)
    #: statuses that are a business answer, not an error (a declined payment is an answer)
    answered_statuses: frozenset[int] = frozenset()

    @property
    def request_name(self) -> str:
        """The name locust files the order requests under (one stats row per phase)."""
        return f"order {self.name}"

    def is_answer(self, status: int) -> bool:
        return status == self.accepted_status or status in self.answered_statuses


PHASES: dict[str, Phase] = {
    "sync": Phase("sync", "/orders/sync", 200, answered_statuses=frozenset({402})),
    "async-ecs": Phase("async-ecs", "/orders/async", 202, {ROUTE_HEADER: "ecs"}),
    "async-lambda": Phase("async-lambda", "/orders/async", 202, {ROUTE_HEADER: "lambda"}),
}
PHASE_NAMES: tuple[str, ...] = tuple(PHASES)
DEFAULT_PHASE = "async-ecs"


def phase(name: str) -> Phase:
    try:
        return PHASES[name]
    except KeyError:
        raise ValueError(f"unknown phase {name!r}: choose one of {', '.join(PHASES)}") from None


def order_body(rng: random.Random) -> dict[str, Any]:
    """An order as the original load scripts sent it: customer 1-10000, 1-3 items of product
    1-1000, quantity 1-5, with the price the client saw (the API ignores it)."""
    return {
        "customer_id": rng.randint(1, 10_000),
        "items": [
            {
                "product_id": rng.randint(1, 1000),
                "quantity": rng.randint(1, 5),
                "price": round(rng.uniform(5, 500), 2),
            }
            for _ in range(rng.randint(1, 3))
        ],
    }


#: words of the default catalog (flashsale.catalog): names, categories, descriptions
SEARCH_TERMS: tuple[str, ...] = (
    "headphones",
    "novel",
    "jacket",
    "lamp",
    "yoga",
    "puzzle",
    "coffee",
    "wireless",
    "premium",
    "electronics",
)


def search_term(rng: random.Random) -> str:
    return rng.choice(SEARCH_TERMS)


def product_id(rng: random.Random) -> int:
    return rng.randint(1, 1000)
