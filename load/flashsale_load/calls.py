"""DynamoDB calls per processed order, from the local moto server's request counter.

    before = dynamodb_calls(moto_url)
    ...  # drain a backlog of N orders
    print(calls_per_order(before, dynamodb_calls(moto_url), N).line("ecs"))

The counter counts every client of the local DynamoDB (API, consumers, sweeper, the benchmark's
own reads): read it around a window in which only the consumers work. On AWS these calls are
the data plane's bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

from localaws.moto_server import CALLS_PATH


def dynamodb_calls(moto_url: str, timeout: float = 5.0) -> dict[str, int]:
    """DynamoDB requests served so far, per operation."""
    response = requests.get(f"{moto_url.rstrip('/')}{CALLS_PATH}", timeout=timeout)
    response.raise_for_status()
    return dict(response.json().get("dynamodb", {}))


@dataclass(frozen=True)
class CallsPerOrder:
    orders: int
    #: requests per operation within the window
    calls: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def per_order(self) -> float | None:
        return self.total / self.orders if self.orders else None

    def line(self, label: str) -> str:
        """`dynamodb calls per order (ecs): 3.02 (UpdateItem 2.00, ...)`; n/a without orders."""
        if self.per_order is None:
            return f"dynamodb calls per order ({label}): n/a (no order processed)"
        parts = ", ".join(
            f"{op} {count / self.orders:.2f}"
            for op, count in sorted(self.calls.items(), key=lambda kv: -kv[1])
        )
        return f"dynamodb calls per order ({label}): {self.per_order:.2f} ({parts})"


def calls_per_order(
    before: Mapping[str, int], after: Mapping[str, int], orders: int
) -> CallsPerOrder:
    window = {op: after.get(op, 0) - before.get(op, 0) for op in after}
    return CallsPerOrder(orders, {op: n for op, n in window.items() if n > 0})
