"""Order ids by category: what a sweep re-published per reason, what a reconcile settled per
final status."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K", bound=str)


class Tally(dict[K, list[str]]):
    def add(self, category: K, order_id: str) -> None:
        self.setdefault(category, []).append(order_id)

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.values())

    def summary(self, total_key: str) -> dict[str, int]:
        """The total under `total_key`, then each category's count (a log line's fields)."""
        return {total_key: self.total, **{str(c): len(ids) for c, ids in self.items()}}
