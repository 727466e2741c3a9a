"""Each money rule of the audit, seen failing on one bad row and passing on the good one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flashsale_chaos.money import ChargeRow, OrderRow, order_violations

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
