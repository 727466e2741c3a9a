"""Acceptance: the highest sustained order rate whose p99 stays under the limit, found by
stepping the number of closed-loop users, against the API and against a bare endpoint."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from flashsale_load import proc, scenarios
from flashsale_load.locust_stats import RequestStats, read_final
from flashsale_load.phases import phase
from flashsale_load.report import fmt_num

PHASE = "async-ecs"
#: a step counts only if at most this share of its requests failed
MAX_FAILURE_RATIO = 0.001


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


def run_steps(
    label: str,
    host: str,
    users: Sequence[int],
    step_s: int,
    out_dir: Path,
    limit_ms: float,
) -> list[Step]:
    """One locust run per user count (stats reset once all users run); stops after the first
    step over the limit."""
    scn = scenarios.scenario("closed")
    steps: list[Step] = []
    for count in users:
        step_dir = out_dir / f"{label}-u{count}"
        step_dir.mkdir(parents=True, exist_ok=True)
        argv = scenarios.locust_command(
            scn,
            phase=PHASE,
            host=host,
            out_dir=step_dir,
            run_time=f"{step_s}s",
            users=count,
            spawn_rate=count,
            html=False,
            extra=["--reset-stats"],
        )
        proc.run_bounded(argv, step_dir / "locust.log", step_s + 60)
        stats = read_final(scenarios.stats_prefix(step_dir)).get(phase(PHASE).request_name)
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
        if not step.within(limit_ms):
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
        if not proc.wait_for(lambda: _healthy(url) or process.poll() is not None, 30):
            raise RuntimeError(f"the bare server did not answer on {url} (see {log_path})")
        if process.poll() is not None:
            raise RuntimeError(f"the bare server exited ({process.returncode}), see {log_path}")
        yield url
    finally:
        proc.stop(process)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def steps_json(steps: Sequence[Step]) -> list[dict]:
    return [asdict(step) for step in steps]
