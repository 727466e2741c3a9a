"""Orders looked up through the API (GET /orders/<id>, the contract every path shares) until
they are final, and their last known states as CSV."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from flashsale_kit.api import Api
from flashsale_load import csvrows
from flashsale_load.analysis import OrderRecord


def lookup(api: Api, order_ids: Iterable[str]) -> dict[str, OrderRecord | None]:
    """The orders as GET /orders/<id> shows them (None: not found, or no answer)."""
    found = api.find_many(order_ids)
    return {
        oid: None if body is None else OrderRecord.from_api(body) for oid, body in found.items()
    }


def wait_terminal(
    api: Api,
    order_ids: Iterable[str],
    timeout: float,
    backlog: Callable[[], int | None] = lambda: 0,
    interval: float = 2.0,
    recheck_s: float = 15.0,
) -> dict[str, OrderRecord | None]:
    """Poll until every order is completed or failed, or `timeout` seconds pass.

    Orders are looked up when `backlog()` (messages still queued) is 0 or unknown (None), else
    only every `recheck_s` seconds, so the lookups do not compete with the drain they wait for.
    Returns the last state seen of every order (None: the API did not find it).
    """
    records: dict[str, OrderRecord | None] = dict.fromkeys(order_ids)
    # the first lookup waits like the later ones: at the start every order is still queued,
    # and looking them all up would compete with the start of the drain
    last_check = time.monotonic()
    deadline = last_check + timeout
    while True:
        pending = [oid for oid, rec in records.items() if rec is None or not rec.is_terminal]
        now = time.monotonic()
        if not pending:
            return records
        if now >= deadline:
            records.update(lookup(api, pending))
            return records
        if backlog() in (0, None) or now - last_check >= recheck_s:
            records.update(lookup(api, pending))
            last_check = now
            if all(records[oid] is not None and records[oid].is_terminal for oid in pending):
                return records
        time.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))


MISSING = "missing"
COLUMNS = (
    "order_id",
    "status",
    "route",
    "created_ts",
    "processing_ts",
    "completed_ts",
    "failed_ts",
)


def write_records(path: Path, records: dict[str, OrderRecord | None]) -> None:
    """The orders' last known states as CSV (status `missing`: the API did not find it)."""
    rows = (rec or OrderRecord(oid, MISSING, None, None) for oid, rec in records.items())
    csvrows.write(path, rows, COLUMNS)


def read_records(path: Path) -> dict[str, OrderRecord | None]:
    rows = csvrows.read(path, OrderRecord)
    return {row.order_id: None if row.status == MISSING else row for row in rows}
