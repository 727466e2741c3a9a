"""`make audit`: the money and stock rules (flashsale_chaos.money) over the whole running stack.

Reads every order, every charge in the gateway's ledger and every product, prints each violation
and exits 1 when there is one (0 when none, 2 when the stack cannot be read). Safe at any moment,
under load too: orders are read before the ledger (a completed order's charge is always older
than the read that saw it completed), and a product's stock is judged only when it did not move
while the orders were read (else it is read again, then reported as unsettled, not as a fault).
Products whose initial stock was never recorded (created before it was) are counted, not judged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flashsale_chaos.money import Violation, order_violations, stock_violations
from flashsale_kit.running import RunningStack
from flashsale_kit.tables import Tables

#: An order pending or processing for longer than this is stuck.
STUCK_AFTER_SECONDS = 600.0
#: Reads of a product whose stock moves while the orders are read, before it is left unsettled.
STOCK_ATTEMPTS = 3


@dataclass
class StackAudit:
    orders: int = 0
    charges: int = 0
    products: int = 0
    violations: list[Violation] = field(default_factory=list)
    #: products with no recorded initial stock (not judged)
    unrecorded: int = 0
    #: products whose stock kept moving while they were read (under load; not judged)
    unsettled: list[int] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations


def audit_stack(tables: Tables, stuck_after: float = STUCK_AFTER_SECONDS) -> StackAudit:
    result = StackAudit()
    before = tables.products()
    orders = tables.all_orders()
    ledger = tables.ledger()
    now = datetime.now(UTC)
    unknown = set(ledger) - set(orders)
    if unknown:  # orders placed after the orders were read: read those again
        orders.update(tables.orders(unknown))
    result.orders, result.charges = len(orders), sum(map(len, ledger.values()))
    result.violations += order_violations(orders, ledger, now, stuck_after)
    recorded = {pid for pid, (_, initial) in before.items() if initial is not None}
    result.products, result.unrecorded = len(before), len(before) - len(recorded)
    pending = recorded
    for attempt in range(STOCK_ATTEMPTS):
        after = tables.products()
        steady = {pid for pid in pending if pid in after and after[pid] == before[pid]}
        initial = {pid: before[pid][1] or 0 for pid in steady}
        remaining = {pid: before[pid][0] for pid in steady}
        result.violations += stock_violations(initial, remaining, orders.values())
        pending = pending - steady
        if not pending or attempt == STOCK_ATTEMPTS - 1:
            break
        before, orders = after, tables.all_orders()
    result.unsettled = sorted(pending)
    return result


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="flashsale-audit", description=__doc__)
    root.add_argument(
        "--stuck-after",
        type=float,
        default=STUCK_AFTER_SECONDS,
        help="seconds an order may stay pending or processing",
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        tables = Tables(RunningStack())
        result = audit_stack(tables, args.stuck_after)
    except Exception as exc:
        print(f"error: cannot read the stack ({exc}); is it up (`make up`)?", file=sys.stderr)
        return 2
    for violation in result.violations:
        print(f"VIOLATION {violation}")
    notes = []
    if result.unrecorded:
        notes.append(f"{result.unrecorded} product(s) without a recorded initial stock")
    if result.unsettled:
        notes.append(f"stock moving while read, not judged: {result.unsettled[:10]}")
    print(
        f"audit: {result.orders} order(s), {result.charges} charge(s), "
        f"{result.products} product(s): "
        + ("PASS" if result.passed else f"FAIL, {len(result.violations)} violation(s)")
        + (f" ({'; '.join(notes)})" if notes else "")
    )
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
