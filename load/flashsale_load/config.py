"""Every environment variable the load tools read is read here, and nowhere else.

The stack's own settings (table and queue names, latency) come from `flashsale.settings`; where
the local platform runs (state folder, endpoints) from `localaws.config`. This module holds only
the knobs of the load generator, the reports and the benchmarks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Self

DEFAULT_API_URL = "http://127.0.0.1:8080"
LOAD_DIR = Path(__file__).resolve().parents[1]
CHECKOUT_ROOT = LOAD_DIR.parent


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def knob(variable: str, default: Any) -> Any:
    """A setting read from `variable` by `Knobs.from_env` (a tuple: comma- or space-separated)."""
    return field(default=default, metadata={"env": variable})


def _parse(raw: str, default: Any) -> Any:
    if isinstance(default, tuple):
        kind = type(default[0]) if default else str
        return tuple(kind(part) for part in raw.replace(",", " ").split())
    return type(default)(raw)


class Knobs:
    """Settings whose fields are `knob`s: each read from its variable, else its default."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        env = os.environ if env is None else env
        given = {f.name: env.get(f.metadata["env"], "").strip() for f in fields(cls)}
        defaults = cls()
        return cls(**{k: _parse(v, getattr(defaults, k)) for k, v in given.items() if v})


def api_url(env: Mapping[str, str] | None = None) -> str:
    """The API under test: API_URL, else http://127.0.0.1:8080."""
    return _str(os.environ if env is None else env, "API_URL", DEFAULT_API_URL).rstrip("/")


def results_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where runs write their output: RESULTS_DIR, else `<checkout>/results` (git-ignored)."""
    env = os.environ if env is None else env
    return Path(_str(env, "RESULTS_DIR", str(CHECKOUT_ROOT / "results"))).resolve()


@dataclass(frozen=True)
class SpikeProfile(Knobs):
    """The spike shape: quiet, a jump to `peak_users` within `ramp_s`, hold, drop, quiet."""

    base_users: int = knob("SPIKE_BASE_USERS", 5)
    peak_users: int = knob("SPIKE_PEAK_USERS", 300)
    quiet_s: float = knob("SPIKE_QUIET_S", 20.0)
    ramp_s: float = knob("SPIKE_RAMP_S", 5.0)
    hold_s: float = knob("SPIKE_HOLD_S", 30.0)
    cool_s: float = knob("SPIKE_COOL_S", 15.0)

    @property
    def duration_s(self) -> float:
        return self.quiet_s + self.ramp_s + self.hold_s + self.cool_s

    def at(self, elapsed_s: float) -> tuple[int, float] | None:
        """What locust's `LoadTestShape.tick()` returns `elapsed_s` into the run: (users, spawn
        rate), None once the spike is over (the run ends)."""
        ramp_rate = max(self.peak_users - self.base_users, 1) / max(self.ramp_s, 0.1)
        if elapsed_s < self.quiet_s:
            return self.base_users, float(max(self.base_users, 1))
        if elapsed_s < self.quiet_s + self.ramp_s + self.hold_s:
            return self.peak_users, ramp_rate
        return (self.base_users, ramp_rate) if elapsed_s < self.duration_s else None


@dataclass(frozen=True)
class CompareSettings(Knobs):
    """`load-compare`: one flash sale per phase, then a bounded wait for the backlog to drain."""

    users: int = knob("USERS", 20)
    #: short enough for the slowest path to drain in `drain_timeout_s` here (load/README.md)
    run_time: str = knob("RUN_TIME", "15s")
    drain_timeout_s: float = knob("DRAIN_TIMEOUT", 600.0)
    sample_interval_s: float = knob("SAMPLE_INTERVAL", 1.0)
    #: how long the first phase waits for earlier orders to leave the queues before releasing them
    start_wait_s: float = knob("START_WAIT", 60.0)


@dataclass(frozen=True)
class WorkersSettings(Knobs):
    """`load-workers`: a backlog drained at each concurrency, per consumer; the backlog grows
    with concurrency so that each point drains for `drain_s` at the theoretical rate."""

    concurrencies: tuple[int, ...] = knob("CONCURRENCIES", (1, 5, 20, 100))
    drain_s: float = knob("DRAIN_SECONDS", 15.0)
    latency_s: float = knob("WORKERS_LATENCY", 0.5)
    step_timeout_s: float = knob("STEP_TIMEOUT", 300.0)
    targets: tuple[str, ...] = knob("WORKER_TARGETS", ("ecs", "lambda"))

    def backlog(self, concurrency: int) -> int:
        """Orders for `drain_s` seconds of `concurrency` payments of `latency_s` each."""
        return max(math.ceil(self.drain_s * concurrency / self.latency_s), 1)


@dataclass(frozen=True)
class BenchSettings(Knobs):
    """`make bench`: acceptance steps, the drain backlog, the cold start probe."""

    p99_limit_ms: float = knob("BENCH_P99_MS", 50.0)
    step_users: tuple[int, ...] = knob("BENCH_USERS", (1, 2, 4, 8, 16, 32, 64))
    step_seconds: int = knob("BENCH_STEP_SECONDS", 8)
    bare_port: int = knob("BENCH_BARE_PORT", 8089)
    drain_backlog: int = knob("BENCH_BACKLOG", 1000)
    drain_latency_s: float = knob("BENCH_LATENCY", 0.2)
    drain_concurrency: int = knob("BENCH_CONCURRENCY", 20)
    drain_timeout_s: float = knob("BENCH_DRAIN_TIMEOUT", 300.0)
    drain_consumers: tuple[str, ...] = knob("BENCH_CONSUMER", ("ecs", "lambda"))
    warm_invokes: int = knob("BENCH_WARM_INVOKES", 5)
    #: how long a section waits for earlier orders to leave the queues before releasing them
    start_wait_s: float = knob("BENCH_START_WAIT", 60.0)
