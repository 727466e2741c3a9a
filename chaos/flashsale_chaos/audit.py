"""The audit closing every scenario, read straight from the tables and the dead-letter queues:

- every accepted order ends `completed` or `failed`, or its message sits in a DLQ (accounted);
- each order's charges in the gateway's ledger match its status (flashsale_chaos.money: one
  approved charge for a completed order, none for a failed one, never two);
- stock is conserved for every product the scenario touched:
  initial = remaining + units of the orders that did not fail (a failed order must have given
  its units back), counting every order written for those products, answered or not;
- no order is left `pending`/`processing` without a dead-lettered message after a bounded wait.
`make audit` (flashsale_chaos.stack_audit) applies the same rules to the whole stack.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from flashsale_chaos.model import Check, ScenarioResult
from flashsale_chaos.money import APPROVED, order_violations, stock_violations
from flashsale_chaos.report import say
from flashsale_kit.running import RunningStack
from flashsale_kit.tables import TERMINAL, OrderRow, Tables

POLL_SECONDS = 1.0
DLQ_PEEK_EVERY = 10.0
STOCK_GRACE = 15.0


class Auditor:
    def __init__(self, stack: RunningStack) -> None:
        self.tables = Tables(stack)

    def settle(
        self, accepted: Iterable[str], timeout: float
    ) -> tuple[dict[str, OrderRow], dict[str, str]]:
        """Poll until every accepted order is final or dead-lettered, or `timeout` passes."""
        ids = list(dict.fromkeys(accepted))
        rows: dict[str, OrderRow] = {}
        dead: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        next_peek = time.monotonic() + DLQ_PEEK_EVERY
        while True:
            open_ids = [oid for oid in ids if oid not in rows or rows[oid].status not in TERMINAL]
            rows.update(self.tables.orders(open_ids))
            open_ids = [
                oid for oid in open_ids if rows.get(oid) is None or rows[oid].status not in TERMINAL
            ]
            if open_ids and (time.monotonic() >= next_peek or time.monotonic() >= deadline):
                dead = self.tables.dead_letters()
                next_peek = time.monotonic() + DLQ_PEEK_EVERY
            if not [oid for oid in open_ids if oid not in dead] or time.monotonic() >= deadline:
                return rows, dead
            time.sleep(POLL_SECONDS)

    def audit(
        self,
        scenario: str,
        accepted: Iterable[str],
        products: Mapping[int, int],
        since: str,
        timeout: float,
        checks: Iterable[Check] = (),
    ) -> ScenarioResult:
        accepted = list(dict.fromkeys(accepted))
        say(f"{scenario}: auditing {len(accepted)} accepted order(s), waiting <= {timeout:.0f} s")
        rows, dead = self.settle(accepted, timeout)
        outcome = ScenarioResult(scenario, accepted=len(accepted), checks=list(checks))
        for order_id in accepted:
            row = rows.get(order_id)
            status = row.status if row else "missing"
            if status == "completed":
                outcome.completed += 1
            elif status == "failed":
                outcome.failed += 1
            elif order_id in dead:
                outcome.in_dlq += 1
            else:
                outcome.stuck += 1
        written = self.tables.orders_touching(products, since)
        outcome.stock_ok, stock_detail = self._stock_balanced(products, since, written)
        audited = {**rows, **written}
        charges = self.tables.charges(audited)
        outcome.max_charges = max(
            (sum(c.status == APPROVED for c in found) for found in charges.values()), default=0
        )
        money = order_violations(audited, charges)
        unanswered_open = sorted(
            oid
            for oid, row in written.items()
            if oid not in set(accepted) and row.status != "failed"
        )
        stuck_ids = [
            oid
            for oid in accepted
            if (rows.get(oid) is None or rows[oid].status not in TERMINAL) and oid not in dead
        ]
        outcome.checks += [
            Check("stock conserved", outcome.stock_ok, stock_detail),
            Check(
                "every order written was accepted or failed",
                not unanswered_open,
                f"{len(unanswered_open)} open without a 202: {unanswered_open[:3]}"
                if unanswered_open
                else f"{len(written)} order(s) written",
            ),
        ]
        if stuck_ids:
            sample = {oid: rows[oid].status if oid in rows else "missing" for oid in stuck_ids[:3]}
            outcome.checks.append(Check("no order stuck", False, f"e.g. {sample}"))
        outcome.checks.append(
            Check(
                "charges match order status",
                not money,
                "; ".join(str(v) for v in money[:5])
                + (f" (+{len(money) - 5})" if len(money) > 5 else "")
                if money
                else f"{len(audited)} order(s), {sum(map(len, charges.values()))} charge(s)",
            )
        )
        return outcome

    def _stock_balanced(
        self, products: Mapping[int, int], since: str, written: dict[str, OrderRow]
    ) -> tuple[bool, str]:
        deadline = time.monotonic() + STOCK_GRACE
        while True:
            remaining = self.tables.stock(products)
            wrong = stock_violations(products, remaining, written.values())
            if not wrong:
                held = sum(remaining.get(pid, 0) for pid in products)
                sold = sum(products.values()) - held
                return True, f"{len(products)} product(s), {sold} unit(s) held by orders"
            if time.monotonic() >= deadline:
                return False, "; ".join(str(v) for v in wrong)
            time.sleep(POLL_SECONDS)
            written = self.tables.orders_touching(products, since)
