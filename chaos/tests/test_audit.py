"""The audit's accounting, over fake tables: what counts as completed, failed, dead-lettered or
stuck, when stock balances, and the table it all ends up in."""

from __future__ import annotations

import pytest

from flashsale_chaos import audit, report
from flashsale_chaos.audit import Auditor
from flashsale_chaos.model import Check, ScenarioResult
from flashsale_kit.tables import ChargeRow, OrderRow

PRODUCT = 800_000_001


class FakeTables:
    def __init__(self, rows: dict[str, OrderRow], stock: int, charges=None, dead=None):
        self.rows = rows
        self.remaining = stock
        self.charge_counts = charges or {}
        self.dead = dead or {}

    def orders(self, ids):
        return {oid: self.rows[oid] for oid in ids if oid in self.rows}

    def orders_touching(self, products, since):
        return {oid: row for oid, row in self.rows.items() if set(row.quantities) & set(products)}

    def stock(self, products):
        return {pid: self.remaining for pid in products}

    def charges(self, ids):
        """A completed order's own charge, unless the test gave the order's charges."""
        found = {}
        for oid in ids:
            own = [f"ch_{oid}"] if self.rows.get(oid, row(oid, "")).status == "completed" else []
            ids_ = self.charge_counts.get(oid, own)
            found[oid] = [ChargeRow(oid, charge_id, "approved") for charge_id in ids_]
        return found

    def dead_letters(self):
        return dict(self.dead)


def row(order_id: str, status: str, quantity: int = 1) -> OrderRow:
    payment = f"ch_{order_id}" if status == "completed" else None
    return OrderRow(order_id, status, status == "failed", {PRODUCT: quantity}, payment)


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(audit, "POLL_SECONDS", 0.001)
    monkeypatch.setattr(audit, "STOCK_GRACE", 0.01)
    monkeypatch.setattr(audit, "DLQ_PEEK_EVERY", 0.0)


def auditor(tables: FakeTables) -> Auditor:
    instance = Auditor.__new__(Auditor)
    instance.tables = tables  # type: ignore[assignment]
    return instance


def test_completed_failed_and_dead_lettered_orders_are_all_accounted_for():
    rows = {"a": row("a", "completed", 2), "b": row("b", "failed", 3), "c": row("c", "processing")}
    # initial 10 = 7 left + 2 (a) + 1 (c, still holding); b gave its 3 back
    tables = FakeTables(rows, stock=7, dead={"c": "local-order-dlq"})
    outcome = auditor(tables).audit("s", ["a", "b", "c"], {PRODUCT: 10}, "t0", timeout=0.05)
    assert (outcome.completed, outcome.failed, outcome.in_dlq, outcome.stuck) == (1, 1, 1, 0)
    assert outcome.accounted and outcome.stock_ok and outcome.passed


def test_an_open_order_without_a_dead_letter_is_stuck():
    tables = FakeTables({"a": row("a", "pending")}, stock=9)
    outcome = auditor(tables).audit("s", ["a"], {PRODUCT: 10}, "t0", timeout=0.05)
    assert outcome.stuck == 1 and not outcome.passed
    assert any(c.name == "no order stuck" and not c.ok for c in outcome.checks)


def test_a_failed_order_that_kept_its_stock_unbalances_the_books():
    tables = FakeTables({"a": row("a", "failed", 4)}, stock=6)  # 4 units never came back
    outcome = auditor(tables).audit("s", ["a"], {PRODUCT: 10}, "t0", timeout=0.05)
    assert not outcome.stock_ok and outcome.verdict == "FAIL"


def test_a_second_charge_fails_the_audit_naming_the_order():
    tables = FakeTables({"a": row("a", "completed")}, stock=9, charges={"a": ["ch_a", "ch_x"]})
    outcome = auditor(tables).audit("s", ["a"], {PRODUCT: 10}, "t0", timeout=0.05)
    assert outcome.max_charges == 2 and not outcome.passed
    money = next(c for c in outcome.checks if c.name == "charges match order status")
    assert not money.ok and "double charge: a" in money.detail


def test_a_failed_order_with_an_approved_charge_fails_the_audit():
    tables = FakeTables({"a": row("a", "failed")}, stock=10, charges={"a": ["ch_a"]})
    outcome = auditor(tables).audit("s", ["a"], {PRODUCT: 10}, "t0", timeout=0.05)
    assert outcome.stock_ok and outcome.max_charges == 1 and not outcome.passed
    money = next(c for c in outcome.checks if c.name == "charges match order status")
    assert "failed but charged: a" in money.detail


def test_an_order_written_without_a_202_must_have_failed():
    rows = {"a": row("a", "completed"), "ghost": row("ghost", "pending")}
    outcome = auditor(FakeTables(rows, stock=8)).audit(
        "s", ["a"], {PRODUCT: 10}, "t0", timeout=0.05
    )
    written = next(c for c in outcome.checks if c.name.startswith("every order written"))
    assert not written.ok and "ghost" in written.detail


def test_a_missing_accepted_order_is_stuck_not_silently_dropped():
    outcome = auditor(FakeTables({}, stock=10)).audit(
        "s", ["gone"], {PRODUCT: 10}, "t0", timeout=0.05
    )
    assert outcome.stuck == 1 and not outcome.accounted and not outcome.passed


def test_the_table_has_one_row_per_scenario_and_details_name_failed_checks():
    good = ScenarioResult(
        "flash-sale", 5, 5, 0, 0, 1, True, 0, [Check("no oversell", True, "0 left")]
    )
    bad = ScenarioResult("duplicates", 3, 2, 0, 0, 2, True, 1)
    broken = ScenarioResult("redrive", error="StackError: the stack is down")
    text = report.table([good, bad, broken])
    lines = text.splitlines()
    assert lines[0].startswith("| scenario") and "max charges/order" in lines[0]
    assert [line.split("|")[-2].strip() for line in lines[2:]] == ["PASS", "FAIL", "ERROR"]
    details = report.details([good, bad, broken])
    assert "ok    no oversell: 0 left" in details
    assert "FAIL  accepted 3 != completed 2 + failed 0 + in DLQ 0" in details
    assert "ERROR StackError: the stack is down" in details
