"""Group commit of stock reservations: orders placed at the same moment share one write.

While one batch write is in flight, new orders queue; the next write carries all of them that
fit (the batch limit, the store's action and byte limits, one price per product, no order twice).
There is no timer (`flashsale.coalescing`: the leader hand-over): a lone order goes out at once,
and the thread that writes hands the writing to the oldest waiting one once its own order is
settled.

A cancelled batch is judged by the store: orders refused on their own are settled with their
error and the rest retried; a product short for the batch's total splits the batch in halves,
down to single orders, so N buyers of S units still get exactly min(N, S) accepted orders.
With `coalesce=False` every order is its own batch (one write per order, for comparison).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from flashsale.coalescing import Coalescer, Waiter
from flashsale.domain.model import Order
from flashsale.domain.reservation import unit_price
from flashsale.ports import ReservationStore

DEFAULT_BATCH_LIMIT = 50


class _Pending(Waiter):
    __slots__ = ("order", "size")

    def __init__(self, order: Order, size: int):
        super().__init__()
        self.order = order
        self.size = size


@dataclass
class ReservationStats:
    """What the reserver wrote in this process: successful writes and the orders they held."""

    writes: int = 0
    orders: int = 0
    max_batch: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, batch_size: int) -> None:
        with self.lock:
            self.writes += 1
            self.orders += batch_size
            self.max_batch = max(self.max_batch, batch_size)


class Reserver(Coalescer[_Pending]):
    """`place(order)` reserves the order's stock and writes it, batched with concurrent orders.

    Raises what the store refuses the order for (UnknownProduct, OutOfStock, PriceChanged,
    DuplicateOrder) or StoreBusy; nothing of the order is written then.
    """

    def __init__(
        self,
        store: ReservationStore,
        batch_limit: int = DEFAULT_BATCH_LIMIT,
        coalesce: bool = True,
    ):
        if batch_limit < 1:
            raise ValueError("batch_limit must be at least 1")
        super().__init__()
        self.store = store
        self.batch_limit = batch_limit if coalesce else 1
        self.coalesce = coalesce
        self.stats = ReservationStats()

    def place(self, order: Order) -> None:
        for product_id in order.quantities():
            unit_price(order, product_id)  # one price per product, or ValueError now
        pending = _Pending(order, self.store.size(order))
        if len(order.quantities()) + 1 > self.store.max_actions or (
            pending.size > self.store.max_bytes
        ):
            raise ValueError(f"order {order.order_id} is too large for one write")
        if self.coalesce:
            self._run(pending)
        else:
            self._send([pending])
        if pending.error is not None:
            raise pending.error

    def _take(self) -> list[_Pending]:
        """The oldest queued orders that fit one write together (called under the lock)."""
        batch: list[_Pending] = []
        products: set[int] = set()
        prices: dict[int, Decimal] = {}
        ids: set[str] = set()
        size = 0
        rest = []
        for pending in self._queue:
            order = pending.order
            wanted = order.quantities()
            new_products = wanted.keys() - products
            fits = (
                len(batch) < self.batch_limit
                and order.order_id not in ids
                and len(batch) + 1 + len(products) + len(new_products) <= self.store.max_actions
                and size + pending.size <= self.store.max_bytes
                and all(
                    prices.get(pid, unit_price(order, pid)) == unit_price(order, pid)
                    for pid in wanted
                )
            )
            if not fits:
                rest.append(pending)
                continue
            batch.append(pending)
            products |= new_products
            prices.update((pid, unit_price(order, pid)) for pid in wanted)
            ids.add(order.order_id)
            size += pending.size
        self._queue = rest
        return batch

    def _send(self, batch: Sequence[_Pending]) -> None:
        """Write `batch`; settle every order in it (accepted, or refused with its own error)."""
        if not batch:
            return
        try:
            rejection = self.store.reserve([pending.order for pending in batch])
        except BaseException as exc:  # nothing was written: every order in it fails alike
            self._settle(batch, exc)
            return
        if rejection is None:
            self.stats.record(len(batch))
            self._settle(batch, None)
            return
        refused = [p for p in batch if p.order.order_id in rejection.refused]
        for pending in refused:
            self._settle([pending], rejection.refused[pending.order.order_id])
        rest = [p for p in batch if p.order.order_id not in rejection.refused]
        if not rest:
            return
        if refused:
            self._send(rest)
        elif len(rest) > 1:
            half = len(rest) // 2
            self._send(rest[:half])
            self._send(rest[half:])
        else:  # a store that calls a lone order short broke its contract: fail it, write nothing
            self._settle(rest, RuntimeError(f"store judged order {rest[0].order.order_id} short"))

    @staticmethod
    def _settle(batch: Sequence[_Pending], error: BaseException | None) -> None:
        for pending in batch:
            pending.settle(error)
