"""Each money rule of the audit, seen failing on one bad row and passing on the good one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flashsale_chaos.money import ChargeRow, OrderRow, extra_charges, order_violations

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def row(status: str, released: bool = False, payment: str | None = None, at: str = "") -> OrderRow:
    return OrderRow("o", status, released, {1: 1}, payment, at or "2026-01-01T11:59:00.000Z")


def charges(*statuses: str) -> dict[str, list[ChargeRow]]:
    return {"o": [ChargeRow("o", f"ch_{i}", s) for i, s in enumerate(statuses)]}


@pytest.mark.parametrize(
    ("order", "ledger", "kind"),
    [
        (row("completed", payment="ch_0"), charges(), "completed without an approved charge"),
        (row("completed", payment="ch_9"), charges("approved"), "completed with another charge"),
        (row("completed", payment="ch_0"), charges("approved", "approved"), "double charge"),
        (row("failed", released=True), charges("approved"), "failed but charged"),
        (row("failed"), charges("declined"), "failed without its stock given back"),
        (row("processing", at="2026-01-01T11:00:00.000Z"), charges(), "stuck"),
        (row("processing", released=True), charges(), "stock given back but not failed"),
    ],
)
def test_each_rule_names_its_violation(order, ledger, kind):
    assert kind in [v.kind for v in order_violations({"o": order}, ledger, NOW, 600)]


@pytest.mark.parametrize(
    ("order", "ledger"),
    [
        (row("completed", payment="ch_0"), charges("approved")),
        (row("completed", payment="ch_1"), charges("declined", "approved")),
        (row("failed", released=True), charges("declined")),
        (row("failed", released=True), charges()),
        (row("processing"), charges("approved")),  # charged, outcome not recorded yet
        (row("pending"), charges()),
    ],
)
def test_consistent_orders_pass(order, ledger):
    assert order_violations({"o": order}, ledger, NOW, 600) == []


@pytest.mark.parametrize(
    ("order", "ledger", "extra"),
    [
        (row("completed", payment="ch_1"), charges("approved", "approved", "declined"), ["ch_0"]),
        (row("completed", payment="ch_0"), charges("approved", "refunded"), []),
        (row("failed", released=True), charges("approved", "declined"), ["ch_0"]),
        (row("processing"), charges("approved", "approved"), []),  # not decided: left alone
    ],
)
def test_extra_charges_are_what_a_refund_gives_back(order, ledger, extra):
    found = extra_charges({"o": order}, ledger)
    assert [c.charge_id for c in found] == extra
    refunded = {
        "o": [
            ChargeRow("o", c.charge_id, "refunded" if c in found else c.status) for c in ledger["o"]
        ]
    }
    if order.status != "processing":  # after the refund, the order's money is consistent
        assert [
            v
            for v in order_violations({"o": order}, refunded, NOW, 600)
            if v.kind != "failed without its stock given back"
        ] == []
