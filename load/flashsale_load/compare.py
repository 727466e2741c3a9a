"""`python -m flashsale_load.compare`: the same flash sale against sync, async-ecs and
async-lambda, one after the other, each followed by a bounded wait for its orders to finish;
then report.md, summary.json and PNG charts in results/<timestamp>-compare/.

Phases do not overlap: the first starts once both work queues are empty (what earlier load left
is failed with its stock released), and what a phase leaves unfinished when its wait ends is
failed and released the same way (leftovers.py), counted as unfinished in the report.

    USERS=20 RUN_TIME=15s DRAIN_TIMEOUT=600 python -m flashsale_load.compare
    python -m flashsale_load.compare --phases async-ecs async-lambda
    python -m flashsale_load.compare --report-only results/<timestamp>-compare
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flashsale_kit.api import Api
from flashsale_kit.running import RunningStack
from flashsale_load import (
    config,
    leftovers,
    locust_stats,
    machine,
    orderlog,
    plots,
    report,
    run,
    scenarios,
)
from flashsale_load.analysis import (
    PhaseSummary,
    SamplerErrors,
    completions_over_time,
    peak_depth,
    queue_series,
    summarize_phase,
)
from flashsale_load.config import CompareSettings
from flashsale_load.order_records import read_records, wait_terminal, write_records
from flashsale_load.phases import PHASE_NAMES, phase
from flashsale_load.report import with_derived
from flashsale_load.sampler import QueueSampler, read_errors, read_samples

ORDERS_LOG = "orders.csv"
ORDERS_FINAL = "orders_final.csv"
QUEUE_SAMPLES = "queue_depth.csv"
SAMPLER_ERRORS = "queue_depth_errors.json"
SETTINGS = "settings.json"
#: per phase: the queues at its start, and what was released when its wait ended
PHASE_QUEUES = "queues.json"
#: seconds a phase's release waits for messages already handled to leave the queues
SETTLE_S = 10.0


def run_phase(
    stack: RunningStack, name: str, out_dir: Path, settings: CompareSettings, sampler: QueueSampler
) -> None:
    """One flash sale against `name`, then wait (bounded) for its accepted orders to finish;
    what is still queued then is failed and released, so the next phase starts on empty
    queues."""
    phase_dir = out_dir / name
    phase_dir.mkdir(parents=True, exist_ok=True)
    start_depth = sum(leftovers.depths(stack, stack.queues).values())
    print(f"[{name}] queue depth at the start: {start_depth}", flush=True)
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
    api_client = Api(config.api_url())
    try:
        t0 = time.monotonic()
        records = wait_terminal(
            api_client, log.order_ids, settings.drain_timeout_s, backlog=sampler.latest_total
        )
    finally:
        api_client.close()
    write_records(phase_dir / ORDERS_FINAL, records)
    done = sum(1 for record in records.values() if record is not None and record.is_terminal)
    print(
        f"[{name}] {done}/{len(records)} finished after {time.monotonic() - t0:.0f} s", flush=True
    )
    released = leftovers.start_on_empty_queues(stack, SETTLE_S)
    print(f"[{name}] after the wait: {released.describe()}", flush=True)
    (phase_dir / PHASE_QUEUES).write_text(
        json.dumps({"start_depth": start_depth, "released": released.as_dict()}, indent=2)
    )


def summarize(out_dir: Path, phases: Sequence[str]) -> tuple[list[PhaseSummary], dict]:
    """Phase summaries and chart series from the files a comparison wrote."""
    samples_path = out_dir / QUEUE_SAMPLES
    samples = read_samples(samples_path) if samples_path.exists() else []
    sampler_errors = read_errors(out_dir / SAMPLER_ERRORS)
    summaries, completions, depths, windows = [], {}, {}, []
    for name in phases:
        phase_dir = out_dir / name
        if not (phase_dir / ORDERS_LOG).exists():
            continue
        log = orderlog.read(phase_dir / ORDERS_LOG)
        final = phase_dir / ORDERS_FINAL
        records = read_records(final) if final.exists() else {}
        stats = locust_stats.read(phase_dir).get(phase(name).request_name)
        queues_path = phase_dir / PHASE_QUEUES
        queues = json.loads(queues_path.read_text()) if queues_path.exists() else {}
        summary = summarize_phase(
            name,
            log,
            records,
            stats,
            peak_depth(samples, name),
            start_queue_depth=queues.get("start_depth"),
            released=queues["released"]["failed"] if "released" in queues else None,
            sampler_errors=(
                sampler_errors.get(name, SamplerErrors()).count
                if sampler_errors is not None
                else None
            ),
        )
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


def read_recorded(out_dir: Path) -> dict[str, Any]:
    """What the run recorded about itself (settings.json): load settings, stack settings,
    machine, start time; keys the run did not record are absent."""
    path = out_dir / SETTINGS
    return json.loads(path.read_text()) if path.exists() else {}


def write_report(out_dir: Path, phases: Sequence[str], recorded: dict[str, Any]) -> Path:
    """report.md and summary.json from the run's files; `recorded` is the run's own settings,
    machine and start time (read_recorded), a missing one reported as missing."""
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
    if any(summary.sampler_errors for summary in summaries):
        notes.append(
            "Some queue depth samples failed (a queue did not answer): the depths above and "
            f"the chart miss those seconds; the errors are in {SAMPLER_ERRORS}."
        )
    notes += release_notes(summaries, recorded.get("before_first_phase"))
    text = report.compare_report(
        summaries,
        recorded.get("machine"),
        recorded.get("stack"),
        recorded.get("run"),
        images,
        notes,
        recorded.get("started_at"),
    )
    path = out_dir / "report.md"
    path.write_text(text)
    (out_dir / "summary.json").write_text(
        json.dumps(
            {
                "phases": [with_derived(s) for s in summaries],
                **recorded,
            },
            indent=2,
        )
    )
    return path


def release_notes(summaries: Sequence[PhaseSummary], before: dict[str, Any] | None) -> list[str]:
    """What the report must say about orders failed and released so that phases do not overlap."""
    notes = []
    if before and before.get("failed"):
        notes.append(
            f"Before the first phase, {before['failed']} orders left queued by earlier load were "
            "failed with their stock released, so the first phase started on empty queues."
        )
    for summary in summaries:
        if summary.released:
            notes.append(
                f"{summary.phase}: {summary.released} orders were not finished when the wait "
                "ended; they were failed with their stock released (counted as not finished "
                "above) so that the next phase started on empty queues. A longer DRAIN_TIMEOUT "
                "or a shorter RUN_TIME lets them finish."
            )
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flashsale_load.compare", description=__doc__)
    parser.add_argument("--phases", nargs="+", choices=PHASE_NAMES, default=list(PHASE_NAMES))
    parser.add_argument("--report-only", type=Path, help="rebuild the report of an earlier run")
    args = parser.parse_args(argv)
    settings = CompareSettings.from_env()
    stack = RunningStack.applied()
    stack_env = machine.stack_settings(stack.run_dir)
    run_settings = {
        "api": config.api_url(),
        "users per phase": settings.users,
        "load window per phase": settings.run_time,
        "drain timeout": f"{settings.drain_timeout_s:.0f} s",
        "scenario": "flash (FastHttpUser, 0.1-0.5 s between orders)",
    }
    if args.report_only:
        print(write_report(args.report_only, args.phases, read_recorded(args.report_only)))
        return 0
    out_dir = scenarios.run_dir(config.results_dir(), "compare")
    print(f"comparing {', '.join(args.phases)}: results in {out_dir}", flush=True)
    before = leftovers.start_on_empty_queues(stack, settings.start_wait_s)
    print(f"before the first phase: {before.describe()}", flush=True)
    recorded = {
        "run": run_settings,
        "stack": stack_env,
        "machine": machine.machine_info(),
        "started_at": time.time(),
        "before_first_phase": before.as_dict(),
    }
    (out_dir / SETTINGS).write_text(json.dumps(recorded, indent=2))
    sampler = QueueSampler(stack.queue_counts, stack.queues, settings.sample_interval_s).start()
    try:
        for name in args.phases:
            run_phase(stack, name, out_dir, settings, sampler)
    finally:
        sampler.stop()
        sampler.write_csv(out_dir / QUEUE_SAMPLES)
        sampler.write_errors(out_dir / SAMPLER_ERRORS)
    path = write_report(out_dir, args.phases, recorded)
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
