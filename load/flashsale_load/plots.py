"""PNG charts of the reports (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import ScalarFormatter

Series = Sequence[tuple[float, float]]


def _finish(fig, ax, path: Path, labels: tuple[str, str, str], **grid: str) -> Path:
    """Axis labels and title (x, y, title), a light grid, the legend; saved to `path`."""
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(labels[2])
    ax.grid(alpha=0.3, **grid)
    ax.legend()
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def completions_chart(series: Mapping[str, Series], window_s: float | None, path: Path) -> Path:
    """Cumulative completed orders per phase, seconds since the phase's load started."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.step(xs, ys, where="post", label=label)
        else:
            ax.plot([], [], label=f"{label} (none)")
    if window_s:
        ax.axvline(window_s, color="grey", linestyle="--", linewidth=1, label="load stops")
    labels = ("seconds since the load started", "orders completed (cumulative)")
    return _finish(fig, ax, path, (*labels, "Completions over time"))


def queue_depth_chart(
    series: Mapping[str, Mapping[str, Series]], window_s: float | None, path: Path
) -> Path:
    """One panel per queue, one line per phase: messages queued or in flight."""
    queues = sorted({queue for per_queue in series.values() for queue in per_queue})
    fig, axes = plt.subplots(len(queues) or 1, 1, figsize=(8, 3 * max(len(queues), 1)))
    axes = list(axes) if len(queues) > 1 else [axes]
    for ax, queue in zip(axes, queues or [""], strict=False):
        for label, per_queue in series.items():
            points = per_queue.get(queue, [])
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, label=label)
        if window_s:
            ax.axvline(window_s, color="grey", linestyle="--", linewidth=1)
        ax.set_title(f"{queue}: depth (visible + in flight)")
        ax.set_xlabel("seconds since the load started")
        ax.set_ylabel("messages")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        else:
            ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes)
    return _save(fig, path)


def outcome_bars(rows: Sequence[tuple[str, int, int, int]], path: Path) -> Path:
    """Per phase: accepted, completed within the window, completed after it."""
    labels = [row[0] for row in rows]
    width = 0.27
    fig, ax = plt.subplots(figsize=(8, 4))
    for offset, (index, name) in zip(
        (-width, 0.0, width),
        ((1, "accepted"), (2, "completed in window"), (3, "completed after")),
        strict=True,
    ):
        ax.bar(
            [i + offset for i in range(len(rows))], [row[index] for row in rows], width, label=name
        )
    ax.set_xticks(range(len(rows)), labels)
    return _finish(fig, ax, path, ("", "orders", "Orders per phase"), axis="y")


def scaling_chart(
    measured: Mapping[str, Series], theoretical: Series, path: Path, title: str
) -> Path:
    """Drain rate against consumer concurrency, with the theoretical concurrency / latency."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if theoretical:
        xs, ys = zip(*theoretical, strict=True)
        ax.plot(xs, ys, "k--", label="theoretical (concurrency / latency)")
    for label, points in measured.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, "o-", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
    labels = ("concurrent payments", "orders drained per second", title)
    return _finish(fig, ax, path, labels, which="both")


def cost_chart(
    volumes: Sequence[float],
    lines: Mapping[str, Sequence[float]],
    break_even: float | None,
    path: Path,
) -> Path:
    """Monthly cost against monthly orders, one line per option."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, costs in lines.items():
        ax.plot(volumes, costs, label=label)
    if break_even:
        ax.axvline(
            break_even,
            color="grey",
            linestyle="--",
            linewidth=1,
            label=f"break-even ~{break_even:,.0f} orders/month",
        )
    ax.set_xscale("log")
    labels = ("orders per month", "USD per month", "ECS Fargate vs Lambda: monthly cost")
    return _finish(fig, ax, path, labels, which="both")
