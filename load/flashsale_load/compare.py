"""`python -m flashsale_load.compare`: the same flash sale against sync, async-ecs and
async-lambda, one after the other, each followed by a bounded wait for its orders to finish;
then report.md, summary.json and PNG charts in results/<timestamp>-compare/.

    USERS=20 RUN_TIME=60s DRAIN_TIMEOUT=600 python -m flashsale_load.compare
    python -m flashsale_load.compare --phases async-ecs async-lambda
    python -m flashsale_load.compare --report-only results/<timestamp>-compare
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from flashsale_load import config, machine, orderlog, plots, report, run, scenarios
from flashsale_load.analysis import (
    PhaseSummary,
    completions_over_time,
    peak_depth,
    queue_series,
    summarize_phase,
)
from flashsale_load.config import CompareSettings
from flashsale_load.locust_stats import read_final
from flashsale_load.orders_client import OrdersClient, read_records, wait_terminal, write_records
from flashsale_load.phases import PHASE_NAMES, phase
from flashsale_load.platform import Stack
from flashsale_load.sampler import QueueSampler, read_samples

ORDERS_LOG = "orders.csv"
ORDERS_FINAL = "orders_final.csv"
QUEUE_SAMPLES = "queue_depth.csv"
SETTINGS = "settings.json"


def run_phase(name: str, out_dir: Path, settings: CompareSettings, sampler: QueueSampler) -> None:
    """One flash sale against `name`, then wait (bounded) for its accepted orders to finish."""
    phase_dir = out_dir / name
    phase_dir.mkdir(parents=True, exist_ok=True)
    sampler.label = name
    print(f"[{name}] flash sale: {settings.users} users for {settings.run_time}", flush=True)
    run.run(
        scenarios.scenario("flash"),
        name,
        phase_dir,
        run_time=settings.run_time,
        users=settings.users,
        spawn_rate=settings.users,
        orders_log=phase_dir / ORDERS_LOG,
    )
    print(f"[{name}] {run.summary_line(phase_dir)}", flush=True)
    log = orderlog.read(phase_dir / ORDERS_LOG)
    print(
        f"[{name}] waiting up to {settings.drain_timeout_s:.0f} s for "
        f"{len(log.orders)} accepted orders to finish",
        flush=True,
    )
    client = OrdersClient(config.api_url())
    try:
        t0 = time.monotonic()
        records = wait_terminal(
            client, log.order_ids, settings.drain_timeout_s, backlog=sampler.latest_total
        )
    finally:
        client.close()
    write_records(phase_dir / ORDERS_FINAL, records)
    done = sum(1 for record in records.values() if record is not None and record.is_terminal)
    print(
        f"[{name}] {done}/{len(records)} finished after {time.monotonic() - t0:.0f} s", flush=True
    )


def summarize(out_dir: Path, phases: Sequence[str]) -> tuple[list[PhaseSummary], dict]:
    """Phase summaries and chart series from the files a comparison wrote."""
    samples_path = out_dir / QUEUE_SAMPLES
    samples = read_samples(samples_path) if samples_path.exists() else []
    summaries, completions, depths, windows = [], {}, {}, []
    for name in phases:
        phase_dir = out_dir / name
        if not (phase_dir / ORDERS_LOG).exists():
            continue
        log = orderlog.read(phase_dir / ORDERS_LOG)
        final = phase_dir / ORDERS_FINAL
        records = read_records(final) if final.exists() else {}
        stats = read_final(scenarios.stats_prefix(phase_dir)).get(phase(name).request_name)
        summary = summarize_phase(name, log, records, stats, peak_depth(samples, name))
        summaries.append(summary)
        t0 = log.start_ts or 0.0
        windows.append(summary.window_s)
        completions[name] = completions_over_time(
            [r for r in records.values() if r is not None], t0
        )
        depths[name] = {
            queue: queue_series(samples, name, queue, t0)
            for queue in sorted({s.queue for s in samples})
        }
    return summaries, {
        "completions": completions,
        "depths": depths,
        "window_s": max(windows, default=None),
    }


def write_report(out_dir: Path, phases: Sequence[str], run_settings: dict, stack: dict) -> Path:
    summaries, series = summarize(out_dir, phases)
    images = [
        (
            "orders per phase",
            plots.outcome_bars(
                [
                    (s.phase, s.accepted, s.completed_in_window, s.completed_after_window)
                    for s in summaries
                ],
                out_dir / "orders.png",
            ).name,
        ),
        (
            "completions over time",
            plots.completions_chart(
                series["completions"], series["window_s"], out_dir / "completions.png"
            ).name,
        ),
        (
            "queue depth",
            plots.queue_depth_chart(
                series["depths"], series["window_s"], out_dir / "queue_depth.png"
            ).name,
        ),
    ]
    notes = [
        "Accepted orders are the requests answered 200 (sync) or 202 (async); their final state "
        "comes from GET /orders/<id> after the wait.",
        "Queue depth is ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible, "
        "sampled every second.",
    ]
    if any(summary.lost for summary in summaries):
        notes.append(
            "Lost orders were accepted, then unknown to the API: the platform's data was reset "
            "during the run (moto keeps it in memory; a restart of `make up` empties it)."
        )
    if not series["depths"] or not any(series["depths"].values()):
        notes.append("No queue depth samples were taken: the queues did not answer.")
    text = report.compare_report(
        summaries, machine.machine_info(), stack, run_settings, images, notes
    )
    path = out_dir / "report.md"
    path.write_text(text)
    (out_dir / "summary.json").write_text(
        json.dumps(
            {
                "phases": [
                    {**dataclasses.asdict(s), "success_rate": s.success_rate} for s in summaries
                ],
                "machine": machine.machine_info(),
                "stack": stack,
                "run": run_settings,
            },
            indent=2,
        )
    )
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flashsale_load.compare", description=__doc__)
    parser.add_argument("--phases", nargs="+", choices=PHASE_NAMES, default=list(PHASE_NAMES))
    parser.add_argument("--report-only", type=Path, help="rebuild the report of an earlier run")
    args = parser.parse_args(argv)
    settings = CompareSettings.from_env()
    stack = Stack.local()
    stack_env = machine.stack_settings(stack.run_dir)
    run_settings = {
        "api": config.api_url(),
        "users per phase": settings.users,
        "load window per phase": settings.run_time,
        "drain timeout": f"{settings.drain_timeout_s:.0f} s",
        "scenario": "flash (FastHttpUser, 0.1-0.5 s between orders)",
    }
    if args.report_only:
        saved = args.report_only / SETTINGS
        if saved.exists():
            recorded = json.loads(saved.read_text())
            run_settings, stack_env = recorded["run"], recorded["stack"]
        print(write_report(args.report_only, args.phases, run_settings, stack_env))
        return 0
    out_dir = scenarios.run_dir(config.results_dir(), "compare")
    (out_dir / SETTINGS).write_text(json.dumps({"run": run_settings, "stack": stack_env}))
    print(f"comparing {', '.join(args.phases)}: results in {out_dir}", flush=True)
    sampler = QueueSampler(stack.sqs, stack.queues, settings.sample_interval_s).start()
    try:
        for name in args.phases:
            run_phase(name, out_dir, settings, sampler)
    finally:
        sampler.stop()
        sampler.write_csv(out_dir / QUEUE_SAMPLES)
    path = write_report(out_dir, args.phases, run_settings, stack_env)
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
