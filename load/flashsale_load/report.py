"""Markdown rendering of the reports: tables of figures, the machine and the settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from flashsale_load.analysis import PhaseSummary


def fmt_num(value: float | int | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "n/a"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".rstrip()


def per(amount: float | None, count: float | None) -> float | None:
    """amount / count; None (not measured) when either is unknown or count is 0."""
    return None if amount is None or not count else amount / count


def quotient(amount: str, count: str) -> property:
    """A derived figure of a dataclass: its field (or property) `amount` per `count`, by `per`."""
    return property(lambda self: per(getattr(self, amount), getattr(self, count)))


def with_derived(obj: Any) -> dict[str, Any]:
    """A dataclass's fields and its derived figures (each property of its class), for JSON."""
    derived = [name for name, attr in vars(type(obj)).items() if isinstance(attr, property)]
    return {**asdict(obj), **{name: getattr(obj, name) for name in derived}}


def fmt_pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


#: a table column: its header and how an item's cell reads
Column = tuple[str, Callable[[Any], str]]


def rows_table(columns: Sequence[Column], items: Iterable[Any]) -> str:
    """One row per item, one column per (header, cell)."""
    return table([name for name, _ in columns], [[cell(i) for _, cell in columns] for i in items])


_PHASE_ROWS: list[tuple[str, Callable[[PhaseSummary], str]]] = [
    ("load window", lambda s: fmt_num(s.window_s, 1, "s")),
    ("order requests sent", lambda s: fmt_num(s.requests)),
    ("request failures (errors, timeouts)", lambda s: fmt_num(s.request_failures)),
    ("orders accepted", lambda s: fmt_num(s.accepted)),
    ("accepted per second", lambda s: fmt_num(s.accepted_per_s, 1)),
    ("completed within the window", lambda s: fmt_num(s.completed_in_window)),
    ("completed after the window", lambda s: fmt_num(s.completed_after_window)),
    ("failed (declined, errors)", lambda s: fmt_num(s.failed)),
    ("not finished when the wait ended", lambda s: fmt_num(s.unfinished)),
    ("unknown to the API (lost)", lambda s: fmt_num(s.lost)),
    ("client wait avg (response time)", lambda s: fmt_num(s.response_avg_ms, 0, "ms")),
    ("client wait p50", lambda s: fmt_num(s.response_p50_ms, 0, "ms")),
    ("client wait p99", lambda s: fmt_num(s.response_p99_ms, 0, "ms")),
    ("order accepted -> completed avg", lambda s: fmt_num(s.completion_avg_s, 2, "s")),
    ("order accepted -> completed p50", lambda s: fmt_num(s.completion_p50_s, 2, "s")),
    ("order accepted -> completed p99", lambda s: fmt_num(s.completion_p99_s, 2, "s")),
    ("success rate (completed / requests)", lambda s: fmt_pct(s.success_rate)),
    ("drain after the window", lambda s: fmt_num(s.drain_s, 1, "s")),
    ("queue depth at the start", lambda s: fmt_num(s.start_queue_depth)),
    ("peak queue depth", lambda s: fmt_num(s.peak_queue_depth)),
    ("queue depth samples failed", lambda s: fmt_num(s.sampler_errors)),
    ("unfinished, failed and released after the wait", lambda s: fmt_num(s.released)),
]


def phase_table(summaries: Sequence[PhaseSummary]) -> str:
    header = ["", *(s.phase for s in summaries)]
    rows = [[label, *(cell(s) for s in summaries)] for label, cell in _PHASE_ROWS]
    return table(header, rows)


def machine_section(machine: Mapping[str, Any] | None) -> str:
    if not machine:
        return "_The machine this run measured on was not recorded with it._"
    memory = machine.get("memory_mib")
    return table(
        ["machine", ""],
        [
            ["nproc", str(machine.get("nproc", "?"))],
            ["memory", f"{memory:,} MiB" if memory else "?"],
            ["cpu", str(machine.get("cpu") or "?")],
            ["python (load tools)", str(machine.get("python", "?"))],
            ["platform", str(machine.get("platform", "?"))],
        ],
    )


def settings_section(
    stack: Mapping[str, Mapping[str, str]] | None, run: Mapping[str, Any] | None
) -> str:
    """The load settings, then each stack process's own settings (defaults when unset)."""
    if run is None:
        parts = ["_The load settings were not recorded with this run._"]
    else:
        parts = [table(["load setting", "value"], [[k, str(v)] for k, v in run.items()])]
    if stack is None:
        parts.append("_The stack's settings were not recorded with this run._")
    elif stack:
        rows = [
            [name, ", ".join(f"{k}={v}" for k, v in sorted(values.items())) or "(defaults)"]
            for name, values in sorted(stack.items())
        ]
        parts.append(table(["stack process", "settings it runs with"], rows))
    else:
        parts.append("_No stack process found in the state folder: its settings are unknown._")
    return "\n\n".join(parts)


def compare_report(
    summaries: Sequence[PhaseSummary],
    machine: Mapping[str, Any] | None,
    stack: Mapping[str, Mapping[str, str]] | None,
    run: Mapping[str, Any] | None,
    images: Sequence[tuple[str, str]],
    notes: Sequence[str] = (),
    started: float | None = None,
) -> str:
    """The comparison's Markdown; `machine`, `stack`, `run` and `started` (unix time) are the
    run's own, and a missing one is said to be missing, never filled in from the present."""
    when = (
        datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M")
        if started is not None
        else "date not recorded"
    )
    parts = [
        f"# Flash sale: the three phases compared ({when})",
        "The same flash sale against each processing path, one after the other; after each, a "
        "bounded wait for the accepted orders to finish. Client wait is what the customer's "
        "request took; accepted -> completed is how long the order took to be paid.",
        "## Phases",
        phase_table(summaries),
        *(f"![{title}]({name})" for title, name in images),
        "## Machine",
        machine_section(machine),
        "## Settings",
        settings_section(stack, run),
    ]
    if notes:
        parts += ["## Notes", "\n".join(f"- {note}" for note in notes)]
    return "\n\n".join(parts) + "\n"
