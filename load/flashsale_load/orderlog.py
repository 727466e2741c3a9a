"""The accepted-orders log a locust run writes (`--orders-log`), and reading it back.

One CSV row per event: `start`/`stop` mark the load window, `order` an accepted order with the
time the client got the answer. The report needs the ids to look the orders up afterwards.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

COLUMNS = ("kind", "ts", "phase", "order_id", "status")


@dataclass(frozen=True)
class AcceptedOrder:
    order_id: str
    phase: str
    accepted_ts: float
    status: int


@dataclass
class OrdersLog:
    start_ts: float | None = None
    stop_ts: float | None = None
    orders: list[AcceptedOrder] = field(default_factory=list)

    @property
    def order_ids(self) -> list[str]:
        return [order.order_id for order in self.orders]


class OrdersLogWriter:
    """Appends rows, flushed once per row: a run cut short still leaves a usable log."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("w", newline="", buffering=1)
        self._csv = csv.writer(self._file)
        self._csv.writerow(COLUMNS)

    def mark(self, kind: str, ts: float) -> None:
        self._csv.writerow((kind, f"{ts:.3f}", "", "", ""))

    def order(self, order: AcceptedOrder) -> None:
        self._csv.writerow(
            ("order", f"{order.accepted_ts:.3f}", order.phase, order.order_id, order.status)
        )

    def close(self) -> None:
        self._file.close()


def read(path: Path) -> OrdersLog:
    log = OrdersLog()
    if not path.exists():
        return log
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            ts = float(row["ts"])
            if row["kind"] == "start":
                log.start_ts = ts if log.start_ts is None else min(log.start_ts, ts)
            elif row["kind"] == "stop":
                log.stop_ts = ts if log.stop_ts is None else max(log.stop_ts, ts)
            elif row["kind"] == "order" and row["order_id"]:
                log.orders.append(
                    AcceptedOrder(row["order_id"], row["phase"], ts, int(row["status"]))
                )
    return log
