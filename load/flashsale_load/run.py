"""`python -m flashsale_load.run SCENARIO`: one headless locust run, CSV + HTML into results/.

python -m flashsale_load.run flash --phase sync --run-time 60s
python -m flashsale_load.run spike --phase async-lambda      # the shape sets users and time
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flashsale_load import config, locust_stats, machine, proc, scenarios
from flashsale_load.config import SpikeProfile
from flashsale_load.locust_stats import AGGREGATED, RequestStats
from flashsale_load.phases import DEFAULT_PHASE, PHASE_NAMES, phase
from flashsale_load.report import fmt_num

#: seconds a run may overrun its nominal duration (start-up, stopping users) before it is stopped
GRACE_S = 60.0


def nominal_seconds(scn: scenarios.Scenario, run_time: str) -> float:
    if scn.shaped:
        return SpikeProfile.from_env().duration_s
    return float(scenarios.seconds(run_time))


def run(
    scn: scenarios.Scenario,
    phase: str,
    out_dir: Path,
    *,
    run_time: str,
    host: str | None = None,
    grace_s: float = GRACE_S,
    **options: Any,
) -> int | None:
    """Run one scenario into `out_dir` (run.json records what ran); returns locust's exit code.
    `options`: `users`, `spawn_rate`, `orders_log`, `html`, `extra` of
    `scenarios.locust_command`."""
    host = host or config.api_url()
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = scenarios.locust_command(
        scn, phase=phase, host=host, out_dir=out_dir, run_time=run_time, **options
    )
    started = time.time()
    code = proc.run_bounded(argv, out_dir / "locust.log", nominal_seconds(scn, run_time) + grace_s)
    meta = {
        "scenario": scn.name,
        "phase": phase,
        "host": host,
        "users": None if scn.shaped else options.get("users") or scn.users,
        "spawn_rate": None if scn.shaped else options.get("spawn_rate") or scn.spawn_rate,
        "run_time": None if scn.shaped else run_time,
        "spike": SpikeProfile.from_env().__dict__ if scn.shaped else None,
        "started_at": started,
        "finished_at": time.time(),
        "exit_code": code,
        "argv": argv[1:],
        "machine": machine.machine_info(),
    }
    (out_dir / "run.json").write_text(json.dumps(meta, indent=2))
    return code


def closed_loop(
    phase_name: str,
    host: str,
    users: int,
    seconds: int,
    out_dir: Path,
    extra: Sequence[str] = (),
    grace_s: float = GRACE_S,
) -> RequestStats | None:
    """`users` closed-loop clients on `phase_name` for `seconds`, run into `out_dir`: locust's
    final figures for that phase's request (None when it made none)."""
    closed = scenarios.scenario("closed")
    run(
        closed,
        phase_name,
        out_dir,
        run_time=f"{seconds}s",
        host=host,
        grace_s=grace_s,
        users=users,
        spawn_rate=users,
        html=False,
        extra=list(extra),
    )
    return locust_stats.read(out_dir).get(phase(phase_name).request_name)


def summary_line(out_dir: Path) -> str:
    total = locust_stats.read(out_dir).get(AGGREGATED)
    if total is None or not total.requests:
        return "no requests made (see locust.log)"
    return (
        f"{total.requests} requests, {total.failures} failed, {fmt_num(total.rps, 1)} req/s, "
        f"avg {fmt_num(total.avg_ms, 0, 'ms')}, p50 {fmt_num(total.p50_ms, 0, 'ms')}, "
        f"p99 {fmt_num(total.p99_ms, 0, 'ms')}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flashsale_load.run", description=__doc__)
    parser.add_argument("scenario", choices=sorted(scenarios.SCENARIOS))
    parser.add_argument("--phase", choices=PHASE_NAMES, default=DEFAULT_PHASE)
    parser.add_argument("--run-time", default="60s", help="e.g. 60s, 2m (ignored by spike)")
    parser.add_argument("--users", type=int, help="override the scenario's user count")
    parser.add_argument("--spawn-rate", type=float, help="override the scenario's spawn rate")
    parser.add_argument("--host", help=f"API base URL (default: API_URL or {config.api_url()})")
    args = parser.parse_args(argv)
    scn = scenarios.scenario(args.scenario)
    out_dir = scenarios.run_dir(config.results_dir(), f"{scn.name}-{args.phase}")
    print(f"{scn.name} against {args.phase}: results in {out_dir}", flush=True)
    code = run(
        scn,
        args.phase,
        out_dir,
        run_time=args.run_time,
        users=args.users,
        spawn_rate=args.spawn_rate,
        host=args.host,
    )
    print(summary_line(out_dir))
    print(f"report: {out_dir / 'report.html'}")
    # locust exits 1 when some requests failed: the run itself worked, the report says how
    return 0 if code in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
