"""`make audit` over fake tables: what it reports, and what it leaves unjudged under load."""

from __future__ import annotations

from flashsale_chaos.money import ChargeRow, OrderRow
from flashsale_chaos.stack_audit import audit_stack


class FakeTables:
    def __init__(self, orders, charges, products, late_orders=None):
        self.rows = dict(orders)
        self.charges = charges
        self.product_reads = list(products)  # one answer per products() call, the last repeats
        self.late = dict(late_orders or {})

    def products(self):
        return self.product_reads.pop(0) if len(self.product_reads) > 1 else self.product_reads[0]

    def all_orders(self):
        return dict(self.rows)

    def ledger(self):
        return self.charges

    def orders(self, ids):
        return {oid: self.late[oid] for oid in ids if oid in self.late}


def completed(oid: str, pid: int = 1, quantity: int = 2) -> OrderRow:
    return OrderRow(oid, "completed", False, {pid: quantity}, f"ch_{oid}")


def charge(oid: str) -> ChargeRow:
    return ChargeRow(oid, f"ch_{oid}", "approved")


def test_a_consistent_stack_passes():
    tables = FakeTables({"a": completed("a")}, {"a": [charge("a")]}, [{1: (8, 10), 2: (5, None)}])
    result = audit_stack(tables)
    assert result.passed and result.unrecorded == 1 and result.charges == 1


def test_missing_stock_is_a_violation_naming_the_product():
    tables = FakeTables({"a": completed("a")}, {"a": [charge("a")]}, [{1: (7, 10)}])
    [violation] = audit_stack(tables).violations
    assert str(violation) == "stock not conserved: 1 (initial 10 != 7 left + 2 held)"


def test_stock_moving_while_read_is_unsettled_not_a_violation():
    moving = [{1: (7, 10)}, {1: (6, 10)}, {1: (5, 10)}, {1: (4, 10)}]
    result = audit_stack(FakeTables({}, {}, moving))
    assert result.passed and result.unsettled == [1]


def test_a_charge_of_an_order_placed_during_the_read_is_not_an_orphan():
    late = completed("b")
    tables = FakeTables({}, {"b": [charge("b")]}, [{1: (8, 10)}], late_orders={"b": late})
    assert audit_stack(tables).passed
    orphan = FakeTables({}, {"c": [charge("c")]}, [{1: (10, 10)}])
    assert [v.kind for v in audit_stack(orphan).violations] == ["charge for an unknown order"]
