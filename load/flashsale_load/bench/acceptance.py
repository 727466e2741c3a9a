"""Acceptance: the highest sustained order rate whose p99 stays under the limit, found by
stepping the number of closed-loop users, against the API (with reservation coalescing on and
off) and against a bare endpoint; with the batch sizes the API's writes carried and the DynamoDB
calls each accepted order cost (counted by the moto server)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from flashsale_kit.api import answers, order_body
from flashsale_kit.polling import poll
from flashsale_kit.running import RunningStack
from flashsale_kit.tables import Tables
from flashsale_load import machine, proc, run
from flashsale_load.locust_stats import RequestStats
from flashsale_load.report import fmt_num, quotient

PHASE = "async-ecs"
API = "api"
#: the API's gunicorn settings (the bare endpoint runs with them too)
GUNICORN_KEYS = ("API_WORKERS", "API_THREADS", "API_TIMEOUT", "API_ACCESS_LOG", "API_LOG_LEVEL")
#: the API's settings a restart for the coalescing comparison keeps as they were
API_KEYS = (*GUNICORN_KEYS, "RESERVATION_COALESCING", "RESERVATION_BATCH_LIMIT")
#: a step counts only if at most this share of its requests failed
MAX_FAILURE_RATIO = 0.001
#: stepping goes on past the limit (a noisy machine can cross it at one user) until a step's p99
#: is this many times over it, or requests fail: the curve shows where the API saturates
SATURATED_FACTOR = 4


@dataclass(frozen=True)
class Step:
    users: int
    requests: int
    failures: int
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None

    @classmethod
    def from_stats(cls, users: int, stats: RequestStats) -> Step:
        return cls(users, stats.requests, stats.failures, stats.rps, stats.p50_ms, stats.p99_ms)

    def within(self, limit_ms: float) -> bool:
        return (
            self.requests > 0
            and self.rps is not None
            and self.p99_ms is not None
            and self.p99_ms <= limit_ms
            and self.failures <= self.requests * MAX_FAILURE_RATIO
        )


def sustained(steps: Sequence[Step], limit_ms: float) -> Step | None:
    """The step with the highest rate among those within the p99 limit."""
    good = [step for step in steps if step.within(limit_ms)]
    return max(good, key=lambda step: step.rps or 0.0) if good else None


def saturated(step: Step, limit_ms: float) -> bool:
    """Far past the limit: more users only add queueing."""
    return (
        step.p99_ms is None
        or step.p99_ms > SATURATED_FACTOR * limit_ms
        or step.failures > step.requests * MAX_FAILURE_RATIO
    )


def run_steps(
    label: str,
    host: str,
    users: Sequence[int],
    step_s: int,
    out_dir: Path,
    limit_ms: float,
) -> list[Step]:
    """One locust run per user count (stats reset once all users run); stops after the first
    saturated step."""
    steps: list[Step] = []
    for count in users:
        step_dir = out_dir / f"{label}-u{count}"
        stats = run.closed_loop(PHASE, host, count, step_s, step_dir, ["--reset-stats"])
        if stats is None:
            print(f"  {label} {count} users: no statistics (see {step_dir}/locust.log)")
            break
        step = Step.from_stats(count, stats)
        steps.append(step)
        print(
            f"  {label:<5} {count:>3} users: {fmt_num(step.rps, 1):>8} req/s"
            f"  p50 {fmt_num(step.p50_ms, 0, 'ms'):>8}  p99 {fmt_num(step.p99_ms, 0, 'ms'):>8}"
            f"  failures {step.failures}",
            flush=True,
        )
        if saturated(step, limit_ms):
            break
    return steps


@contextmanager
def bare_server(port: int, log_path: Path, env: Mapping[str, str]):
    """The bare endpoint under gunicorn with the API's own gunicorn settings, on `port`."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:orders_api.gunicorn_conf",
        "flashsale_load.bench.bare_app:app",
    ]
    process = proc.start(argv, log_path, {**env, "API_HOST": "127.0.0.1", "API_PORT": str(port)})
    url = f"http://127.0.0.1:{port}"
    try:
        if not poll(lambda: answers(url, "/health", 1) or process.poll() is not None, 30):
            raise RuntimeError(f"the bare server did not answer on {url} (see {log_path})")
        if process.poll() is not None:
            raise RuntimeError(f"the bare server exited ({process.returncode}), see {log_path}")
        yield url
    finally:
        proc.stop(process)


def steps_json(steps: Sequence[Step]) -> list[dict]:
    return [asdict(step) for step in steps]


@dataclass(frozen=True)
class IntakeFigures:
    """What the API's reservation writes did during a run of steps."""

    orders: int
    writes: int
    max_batch: int | None
    dynamodb_calls: int | None
    transact_writes: int | None

    mean_batch = quotient("orders", "writes")
    calls_per_order = quotient("dynamodb_calls", "orders")
    transact_writes_per_order = quotient("transact_writes", "orders")

    def line(self, label: str) -> str:
        return (
            f"  {label}: {self.orders} orders in {self.writes} writes, batch mean "
            f"{fmt_num(self.mean_batch, 2)} max {fmt_num(self.max_batch)}; DynamoDB calls per "
            f"order {fmt_num(self.calls_per_order, 2)} (TransactWriteItems "
            f"{fmt_num(self.transact_writes_per_order, 2)})"
        )


def intake_figures(
    stack: RunningStack,
    since: str,
    before: Mapping[str, int] | None,
    after: Mapping[str, int] | None,
) -> IntakeFigures:
    """Batch sizes of the orders created since `since` (each order item names the write that
    placed it) and the DynamoDB calls between the two counts."""
    batches: dict[str, int] = {}
    orders = 0
    items = Tables(stack).scan(
        stack.settings.orders_table,
        ProjectionExpression="reservation_batch, reservation_batch_size",
        FilterExpression="created_at >= :since",
        ExpressionAttributeValues={":since": {"S": since}},
    )
    for item in items:
        orders += 1
        batch = item.get("reservation_batch", {}).get("S")
        if batch is not None:
            batches[batch] = int(item["reservation_batch_size"]["N"])
    calls = transacts = None
    if before is not None and after is not None:
        calls = sum(after.values()) - sum(before.values())
        transacts = after.get("TransactWriteItems", 0) - before.get("TransactWriteItems", 0)
    return IntakeFigures(
        orders=orders,
        writes=len(batches),
        max_batch=max(batches.values()) if batches else None,
        dynamodb_calls=calls,
        transact_writes=transacts,
    )


def warm_up(api_url: str, orders: int = 16) -> None:
    """A few orders over fresh connections (so every worker gets some) before measuring: a
    restarted API's workers load their price caches and clients first."""
    for _ in range(orders):
        with suppress(requests.RequestException):
            requests.post(f"{api_url}/orders/async", json=order_body(1, 1), timeout=30)


@contextmanager
def api_coalescing(stack: RunningStack, on: bool, api_url: str) -> Iterator[None]:
    """The API restarted with reservation coalescing on or off, then restarted as it was."""
    original = machine.component_env(stack.run_dir, API, API_KEYS)
    stack.localaws("restart", API, env={**original, "RESERVATION_COALESCING": str(on).lower()})
    try:
        if not poll(lambda: answers(api_url, "/health", 1), 60):
            raise RuntimeError(f"the API did not come back on {api_url}")
        yield
    finally:
        stack.localaws("restart", API, env=original, unset=API_KEYS)
        poll(lambda: answers(api_url, "/health", 1), 60)
