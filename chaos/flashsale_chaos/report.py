"""The audit table: one row per scenario, then each scenario's own checks."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from flashsale_chaos.model import ScenarioResult

COLUMNS = (
    ("scenario", 22),
    ("orders", 6),
    ("completed", 9),
    ("failed", 6),
    ("in DLQ", 6),
    ("max charges/order", 17),
    ("stock ok", 8),
    ("stuck", 5),
    ("verdict", 7),
)


def _cells(outcome: ScenarioResult) -> list[str]:
    return [
        outcome.scenario,
        str(outcome.accepted),
        str(outcome.completed),
        str(outcome.failed),
        str(outcome.in_dlq),
        str(outcome.max_charges),
        "yes" if outcome.stock_ok else "NO",
        str(outcome.stuck),
        outcome.verdict,
    ]


def table(outcomes: Sequence[ScenarioResult]) -> str:
    def row(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                cell.ljust(width) if index == 0 else cell.rjust(width)
                for index, (cell, (_, width)) in enumerate(zip(cells, COLUMNS, strict=True))
            )
            + " |"
        )

    rule = "|" + "|".join("-" * (width + 2) for _, width in COLUMNS) + "|"
    lines = [row([name for name, _ in COLUMNS]), rule]
    lines += [row(_cells(outcome)) for outcome in outcomes]
    return "\n".join(lines)


def details(outcomes: Sequence[ScenarioResult]) -> str:
    lines = []
    for outcome in outcomes:
        lines.append(f"{outcome.scenario}:")
        if outcome.error:
            lines.append(f"  ERROR {outcome.error}")
        if not outcome.accounted and outcome.error is None:
            lines.append(
                f"  FAIL  accepted {outcome.accepted} != completed {outcome.completed} + "
                f"failed {outcome.failed} + in DLQ {outcome.in_dlq}"
            )
        for check in outcome.checks:
            mark = "ok  " if check.ok else "FAIL"
            lines.append(f"  {mark}  {check.name}" + (f": {check.detail}" if check.detail else ""))
    return "\n".join(lines)


def say(message: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[chaos] {message}", file=sys.stderr, flush=True)
