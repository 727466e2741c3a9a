"""The money and stock rules an audit checks, as plain functions over rows read from the tables.

Per order, its charges in the gateway's ledger against its status:
- completed <=> exactly one approved charge, and it is the order's payment_id;
- failed <=> no approved charge (a declined charge moves no money), and its stock given back;
- no order has two approved charges (a double charge), whatever its status;
- pending or processing longer than a bound is stuck;
- every charge belongs to an order that exists.
Per product: initial stock = current stock + units held by the orders that are not failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flashsale.domain.model import parse_utc
from flashsale_kit.tables import ChargeRow, OrderRow

APPROVED = "approved"
UNDECIDED = frozenset({"pending", "processing"})


@dataclass(frozen=True)
class Violation:
    kind: str
    subject: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}" + (f" ({self.detail})" if self.detail else "")


def extra_charges(
    orders: Mapping[str, OrderRow], charges: Mapping[str, list[ChargeRow]]
) -> list[ChargeRow]:
    """The approved charges a decided order should not have: every one of a failed order, every
    one but its payment_id of a completed order (what a refund gives back)."""
    extra: list[ChargeRow] = []
    for order_id, row in orders.items():
        approved = [c for c in charges.get(order_id, []) if c.status == APPROVED]
        if row.status == "completed":
            extra += [c for c in approved if c.charge_id != row.payment_id]
        elif row.status == "failed":
            extra += approved
    return extra


def order_violations(
    orders: Mapping[str, OrderRow],
    charges: Mapping[str, list[ChargeRow]],
    now: datetime | None = None,
    stuck_after: float | None = None,
) -> list[Violation]:
    """Every broken rule of these orders and charges (`now`/`stuck_after`: the stuck check)."""
    found: list[Violation] = []
    for order_id, row in orders.items():
        approved = [c.charge_id for c in charges.get(order_id, []) if c.status == APPROVED]
        if len(approved) > 1:
            found.append(Violation("double charge", order_id, f"{len(approved)}: {approved}"))
        if row.status == "completed":
            if not approved:
                found.append(Violation("completed without an approved charge", order_id))
            elif row.payment_id not in approved:
                detail = f"payment_id {row.payment_id}, charges {approved}"
                found.append(Violation("completed with another charge", order_id, detail))
        elif row.status == "failed":
            if approved:
                found.append(Violation("failed but charged", order_id, ", ".join(approved)))
            if not row.stock_released:
                found.append(Violation("failed without its stock given back", order_id))
        elif row.status in UNDECIDED:
            age = _age(row.updated_at, now)
            if stuck_after is not None and age is not None and age > stuck_after:
                found.append(Violation("stuck", order_id, f"{row.status} for {age:.0f} s"))
        else:
            found.append(Violation("unknown status", order_id, repr(row.status)))
        if row.stock_released and row.status != "failed":
            found.append(Violation("stock given back but not failed", order_id, row.status))
    for order_id in sorted(set(charges) - set(orders)):
        ids = [c.charge_id for c in charges[order_id]]
        found.append(Violation("charge for an unknown order", order_id, ", ".join(ids)))
    return found


def held_units(orders: Iterable[OrderRow], product_ids: Iterable[int]) -> dict[int, int]:
    """Units of each product held by orders that are not failed."""
    held = dict.fromkeys(product_ids, 0)
    for row in orders:
        if row.status == "failed":  # its units must be back on the shelf
            continue
        for pid, quantity in row.quantities.items():
            if pid in held:
                held[pid] += quantity
    return held


def stock_violations(
    initial: Mapping[int, int], remaining: Mapping[int, int], orders: Iterable[OrderRow]
) -> list[Violation]:
    held = held_units(orders, initial)
    return [
        Violation(
            "stock not conserved",
            str(pid),
            f"initial {start} != {remaining.get(pid)} left + {held[pid]} held",
        )
        for pid, start in initial.items()
        if start != remaining.get(pid, 0) + held[pid]
    ]


def _age(timestamp: str, now: datetime | None) -> float | None:
    if not timestamp or now is None:
        return None
    return (now - parse_utc(timestamp)).total_seconds()
