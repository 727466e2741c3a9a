"""Every environment variable the load tools read is read here, and nowhere else.

The stack's own settings (table and queue names, latency) come from `flashsale.settings`; where
the local platform runs (state folder, endpoints) from `localaws.config`. This module holds only
the knobs of the load generator, the reports and the benchmarks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_API_URL = "http://127.0.0.1:8080"
LOAD_DIR = Path(__file__).resolve().parents[1]
CHECKOUT_ROOT = LOAD_DIR.parent


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip()
    return raw or default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    return float(raw) if raw else default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    return int(raw) if raw else default


def _ints(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name, "").strip()
    return tuple(int(part) for part in raw.replace(",", " ").split()) if raw else default


def api_url(env: Mapping[str, str] | None = None) -> str:
    """The API under test: API_URL, else http://127.0.0.1:8080."""
    return _str(os.environ if env is None else env, "API_URL", DEFAULT_API_URL).rstrip("/")


def results_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where runs write their output: RESULTS_DIR, else `<checkout>/results` (git-ignored)."""
    env = os.environ if env is None else env
    return Path(_str(env, "RESULTS_DIR", str(CHECKOUT_ROOT / "results"))).resolve()


@dataclass(frozen=True)
class SpikeProfile:
    """The spike shape: quiet, a jump to `peak_users` within `ramp_s`, hold, drop, quiet."""

    base_users: int = 5
    peak_users: int = 300
    quiet_s: float = 20.0
    ramp_s: float = 5.0
    hold_s: float = 30.0
    cool_s: float = 15.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SpikeProfile:
        env = os.environ if env is None else env
        return cls(
            base_users=_int(env, "SPIKE_BASE_USERS", cls.base_users),
            peak_users=_int(env, "SPIKE_PEAK_USERS", cls.peak_users),
            quiet_s=_float(env, "SPIKE_QUIET_S", cls.quiet_s),
            ramp_s=_float(env, "SPIKE_RAMP_S", cls.ramp_s),
            hold_s=_float(env, "SPIKE_HOLD_S", cls.hold_s),
            cool_s=_float(env, "SPIKE_COOL_S", cls.cool_s),
        )


@dataclass(frozen=True)
class CompareSettings:
    """`load-compare`: one flash sale per phase, then a bounded wait for the backlog to drain."""

    users: int = 20
    #: short enough for the slowest path to drain in `drain_timeout_s` here (load/README.md)
    run_time: str = "15s"
    drain_timeout_s: float = 600.0
    sample_interval_s: float = 1.0
    #: how long the first phase waits for earlier orders to leave the queues before releasing them
    start_wait_s: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CompareSettings:
        env = os.environ if env is None else env
        return cls(
            users=_int(env, "USERS", cls.users),
            run_time=_str(env, "RUN_TIME", cls.run_time),
            drain_timeout_s=_float(env, "DRAIN_TIMEOUT", cls.drain_timeout_s),
            sample_interval_s=_float(env, "SAMPLE_INTERVAL", cls.sample_interval_s),
            start_wait_s=_float(env, "START_WAIT", cls.start_wait_s),
        )


@dataclass(frozen=True)
class WorkersSettings:
    """`load-workers`: a backlog drained at each concurrency, per consumer; the backlog grows
    with concurrency so that each point drains for `drain_s` at the theoretical rate."""

    concurrencies: tuple[int, ...] = (1, 5, 20, 100)
    drain_s: float = 15.0
    latency_s: float = 0.5
    step_timeout_s: float = 300.0
    targets: tuple[str, ...] = ("ecs", "lambda")

    def backlog(self, concurrency: int) -> int:
        """Orders for `drain_s` seconds of `concurrency` payments of `latency_s` each."""
        return max(math.ceil(self.drain_s * concurrency / self.latency_s), 1)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkersSettings:
        env = os.environ if env is None else env
        targets = _str(env, "WORKER_TARGETS", ",".join(cls.targets)).replace(",", " ").split()
        return cls(
            concurrencies=_ints(env, "CONCURRENCIES", cls.concurrencies),
            drain_s=_float(env, "DRAIN_SECONDS", cls.drain_s),
            latency_s=_float(env, "WORKERS_LATENCY", cls.latency_s),
            step_timeout_s=_float(env, "STEP_TIMEOUT", cls.step_timeout_s),
            targets=tuple(targets),
        )


@dataclass(frozen=True)
class BenchSettings:
    """`make bench`: acceptance steps, the drain backlog, the cold start probe."""

    p99_limit_ms: float = 50.0
    step_users: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    step_seconds: int = 8
    bare_port: int = 8089
    drain_backlog: int = 1000
    drain_latency_s: float = 0.2
    drain_concurrency: int = 20
    drain_timeout_s: float = 300.0
    drain_consumers: tuple[str, ...] = ("ecs", "lambda")
    warm_invokes: int = 5
    #: how long a section waits for earlier orders to leave the queues before releasing them
    start_wait_s: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BenchSettings:
        env = os.environ if env is None else env
        return cls(
            p99_limit_ms=_float(env, "BENCH_P99_MS", cls.p99_limit_ms),
            step_users=_ints(env, "BENCH_USERS", cls.step_users),
            step_seconds=_int(env, "BENCH_STEP_SECONDS", cls.step_seconds),
            bare_port=_int(env, "BENCH_BARE_PORT", cls.bare_port),
            drain_backlog=_int(env, "BENCH_BACKLOG", cls.drain_backlog),
            drain_latency_s=_float(env, "BENCH_LATENCY", cls.drain_latency_s),
            drain_concurrency=_int(env, "BENCH_CONCURRENCY", cls.drain_concurrency),
            drain_timeout_s=_float(env, "BENCH_DRAIN_TIMEOUT", cls.drain_timeout_s),
            drain_consumers=tuple(
                _str(env, "BENCH_CONSUMER", " ".join(cls.drain_consumers)).replace(",", " ").split()
            ),
            warm_invokes=_int(env, "BENCH_WARM_INVOKES", cls.warm_invokes),
            start_wait_s=_float(env, "BENCH_START_WAIT", cls.start_wait_s),
        )
