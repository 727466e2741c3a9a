"""`python -m flashsale_load.bench [--only SECTION ...]`: acceptance, drain, coldstart, rss
against the local stack, each on empty queues (leftovers.py), bounded in time; prints the
figures, writes bench.json under results/ and exits 1 when a section or one of its correctness
checks (`failed_checks`) fails. What each section measures: load/README.md, "Benchmarks"."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from flashsale.domain.model import utc_now
from flashsale_kit.api import answers
from flashsale_kit.running import RunningStack
from flashsale_kit.tables import Tables
from flashsale_load import config, machine, scenarios
from flashsale_load.bench import acceptance, coldstart, rss
from flashsale_load.config import BenchSettings
from flashsale_load.consumers import MESSAGES_PER_PAYMENT, LambdaConsumer, alone, consumer
from flashsale_load.drain import ledger_check
from flashsale_load.leftovers import discard_backlog, start_on_empty_queues
from flashsale_load.report import fmt_num, with_derived
from flashsale_load.workers import drain_step, trigger_scale_up

SECTIONS = ("acceptance", "drain", "coldstart", "rss")
#: the key of a section's result listing its correctness checks that failed (exit status 1)
FAILED_CHECKS = "failed_checks"


def bench_acceptance(stack: RunningStack, s: BenchSettings, out: Path) -> dict[str, Any]:
    api = config.api_url()
    print(
        f"acceptance: users {list(s.step_users)}, {s.step_seconds} s each, "
        f"p99 limit {s.p99_limit_ms:g} ms; reservation coalescing on, then off; "
        "the processor paused meanwhile",
        flush=True,
    )
    # the intake is measured alone: payments would compete for the same cores and their
    # DynamoDB calls would count as the orders'
    processor = consumer("ecs", stack)
    processor.pause()
    try:
        runs = _api_runs(stack, s, out, api)
    finally:
        processor.restore()
    gunicorn_env = machine.component_env(stack.run_dir, acceptance.API, acceptance.GUNICORN_KEYS)
    with acceptance.bare_server(
        s.bare_port, out / "bare-gunicorn.log", {**os.environ, **gunicorn_env}
    ) as bare_url:
        bare_steps = acceptance.run_steps(
            "bare", bare_url, s.step_users, s.step_seconds, out / "acceptance", s.p99_limit_ms
        )
    best_bare = acceptance.sustained(bare_steps, s.p99_limit_ms)
    best = {mode: acceptance.sustained(steps, s.p99_limit_ms) for mode, (steps, _) in runs.items()}
    ratios = {
        mode: found.rps / best_bare.rps if found and best_bare and best_bare.rps else None
        for mode, found in best.items()
    }
    shown = (
        ("api, coalescing on", best["on"]),
        ("api, coalescing off", best["off"]),
        ("bare endpoint", best_bare),
    )
    for label, found in shown:
        if found:
            print(
                f"sustained {label}: {found.rps:.1f} orders/s at {found.users} users "
                f"(p99 {found.p99_ms:.0f} ms)"
            )
        else:
            print(f"sustained {label}: no step kept p99 under {s.p99_limit_ms:g} ms")
    for mode, (_, figures) in runs.items():
        print(figures.line(f"coalescing {mode}"))
    print(f"acceptance ratio (coalescing off): {fmt_num(ratios['off'], 2)}")
    print(f"acceptance ratio: {fmt_num(ratios['on'], 2)}")
    return {
        "p99_limit_ms": s.p99_limit_ms,
        "gunicorn": gunicorn_env or "defaults",
        "api_steps": acceptance.steps_json(runs["on"][0]),
        "api_steps_coalescing_off": acceptance.steps_json(runs["off"][0]),
        "bare_steps": acceptance.steps_json(bare_steps),
        "api_sustained_rps": best["on"].rps if best["on"] else None,
        "api_sustained_rps_coalescing_off": best["off"].rps if best["off"] else None,
        "bare_sustained_rps": best_bare.rps if best_bare else None,
        "ratio": ratios["on"],
        "ratio_coalescing_off": ratios["off"],
        "intake": {mode: with_derived(figures) for mode, (_, figures) in runs.items()},
    }


def _api_runs(
    stack: RunningStack, s: BenchSettings, out: Path, api: str
) -> dict[str, tuple[list[acceptance.Step], acceptance.IntakeFigures]]:
    """The acceptance steps against the API with reservation coalescing on, then off."""
    runs: dict[str, tuple[list[acceptance.Step], acceptance.IntakeFigures]] = {}
    for label, coalescing in (("api", True), ("api-off", False)):
        with acceptance.api_coalescing(stack, coalescing, api):
            started = utc_now()
            acceptance.warm_up(api)
            measured_from = utc_now()
            before = stack.dynamodb_calls()
            steps = acceptance.run_steps(
                label, api, s.step_users, s.step_seconds, out / "acceptance", s.p99_limit_ms
            )
            figures = acceptance.intake_figures(
                stack, measured_from, before, stack.dynamodb_calls()
            )
            print(figures.line(f"coalescing {'on' if coalescing else 'off'}"), flush=True)
            # the accepted orders are benchmark traffic: drop their messages and fail them
            # rather than leave hours of 3 s payments queued
            purged = discard_backlog(stack, "order-queue", since=started)
            print(f"  discarded {purged} benchmark orders from the order queue", flush=True)
        runs["on" if coalescing else "off"] = (steps, figures)
    return runs


def bench_drain(stack: RunningStack, s: BenchSettings, out: Path) -> dict[str, Any]:
    """Each consumer in turn: `drain ratio (<consumer>): X.XX`; a consumer's failed correctness
    checks are the section's, named after it."""
    results: dict[str, Any] = {name: drain_one(stack, s, out, name) for name in s.drain_consumers}
    results[FAILED_CHECKS] = [
        f"{name}: {check}" for name in s.drain_consumers for check in results[name][FAILED_CHECKS]
    ]
    return results


def drain_one(stack: RunningStack, s: BenchSettings, out: Path, name: str) -> dict[str, Any]:
    target = consumer(name, stack)
    how = ""
    if isinstance(target, LambdaConsumer):
        split = target.split(s.drain_concurrency, s.drain_latency_s)
        how = (
            f" ({split.batches} batches in flight x {split.per_invocation} payments each, "
            f"{split.batch_size} records per batch; "
            f"trigger scale-up {trigger_scale_up(stack)})"
        )
    else:
        how = f" ({s.drain_concurrency * MESSAGES_PER_PAYMENT} messages in flight)"
    print(
        f"drain ({target.name}): backlog {s.drain_backlog}, concurrency {s.drain_concurrency}"
        f"{how}, latency {s.drain_latency_s:g} s",
        flush=True,
    )
    with alone(stack, target):
        target.pause()
        discard_backlog(stack, target.queue)
        result, records = drain_step(
            stack,
            target,
            s.drain_concurrency,
            s.drain_backlog,
            s.drain_latency_s,
            s.drain_timeout_s,
            out,
        )
    charges = Tables(stack).charges(records, workers=4)
    check = ledger_check({order_id: len(found) for order_id, found in charges.items()})
    print(result.line())
    print(f"drain ratio ({target.name}): {fmt_num(result.ratio, 2)}")
    print(
        f"ledger: {check.charged_once}/{check.orders} charged once, "
        f"{len(check.never_charged)} never charged, "
        f"{len(check.charged_more_than_once)} charged more than once; "
        f"{result.unfinished} unfinished"
    )
    failed_checks = [] if check.ok else ["ledger: every order charged exactly once"]
    if result.unfinished:
        failed_checks.append(f"drain: {result.unfinished} orders of the backlog did not finish")
    return {
        **with_derived(result),
        FAILED_CHECKS: failed_checks,
        "ledger": {
            "orders": check.orders,
            "charged_once": check.charged_once,
            "never_charged": list(check.never_charged[:20]),
            "charged_more_than_once": list(check.charged_more_than_once[:20]),
            "ok": check.ok,
        },
    }


def bench_coldstart(stack: RunningStack, s: BenchSettings, out: Path) -> dict[str, Any]:
    init = [t for t, _ in coldstart.import_times(coldstart.function_process_env(stack))]
    times = coldstart.invoke_times(stack, s.warm_invokes)
    print(
        f"payment_fn init (import + Powertools setup, fresh interpreter): "
        f"{min(init) * 1000:.0f} ms (runs: {', '.join(f'{t * 1000:.0f}' for t in init)} ms); "
        f"warm invoke p50 {fmt_num(times.warm_p50_ms, 0, 'ms')}"
    )
    print(
        f"payment_fn first invoke after a config change: {fmt_num(times.cold_ms, 0, 'ms')}; "
        f"warm p50 {fmt_num(times.warm_p50_ms, 0, 'ms')}; "
        f"cold overhead {fmt_num(times.cold_overhead_ms, 0, 'ms')}"
        + (f" (function error: {times.function_error})" if times.function_error else "")
    )
    return {
        "module_init_s": init,
        "cold_invoke_ms": times.cold_ms,
        "warm_invoke_ms": times.warm_ms,
        "warm_p50_ms": times.warm_p50_ms,
        "cold_overhead_ms": times.cold_overhead_ms,
        "function_error": times.function_error,
    }


def bench_rss(stack: RunningStack, s: BenchSettings, out: Path) -> dict[str, Any]:
    if not rss.lambda_pids(stack.function_name):
        coldstart.invoke_probe(stack)  # a configuration change retired the runtime process
    report = rss.stack_rss(stack.run_dir, stack.function_name)
    for name, per_pid in report.items():
        shown = ", ".join(f"pid {pid}: {mib} MiB" for pid, mib in per_pid.items()) or "not found"
        print(f"RSS {name}: {shown}")
    return report


def clean_start(stack: RunningStack, s: BenchSettings) -> dict[str, Any]:
    """Both work queues empty before a section: earlier load is neither measured nor paid
    meanwhile."""
    leftovers = start_on_empty_queues(stack, s.start_wait_s)
    print(f"start: {leftovers.describe()}", flush=True)
    return leftovers.as_dict()


Runner = Callable[[RunningStack, BenchSettings, Path], dict[str, Any]]
RUNNERS: dict[str, Runner] = {
    "acceptance": bench_acceptance,
    "drain": bench_drain,
    "coldstart": bench_coldstart,
    "rss": bench_rss,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flashsale_load.bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    args = parser.parse_args(argv)
    settings = BenchSettings.from_env()
    stack = RunningStack.applied()
    if not answers(config.api_url(), "/health", 3):
        print(
            f"the API does not answer on {config.api_url()}: start the stack with `make up`",
            file=sys.stderr,
        )
        return 2
    out = scenarios.run_dir(config.results_dir(), "bench")
    print(f"bench: results in {out}", flush=True)
    results: dict[str, Any] = {
        "machine": machine.machine_info(),
        "stack": machine.stack_settings(stack.run_dir),
        "settings": settings.__dict__,
    }
    failed = run_sections(args.only, RUNNERS, stack, settings, out, results)
    (out / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {out / 'bench.json'}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def run_sections(
    names: Sequence[str],
    runners: Mapping[str, Runner],
    stack: RunningStack,
    settings: BenchSettings,
    out: Path,
    results: dict[str, Any],
    start_clean: Callable[[RunningStack, BenchSettings], dict[str, Any]] = clean_start,
) -> list[str]:
    """Run each section into `results`, each on empty queues (`start_clean`); returns the
    sections that raised or whose correctness checks failed (a figure under its goal is a
    figure, not a failure)."""
    failed: list[str] = []
    for name in names:
        try:
            start = start_clean(stack, settings)
            results[name] = runners[name](stack, settings, out)
            results[name]["start"] = start
        except Exception as exc:
            failed.append(name)
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            traceback.print_exc(limit=3)
            continue
        for check in results[name].get(FAILED_CHECKS, []):
            print(f"{name}: check FAILED: {check}", file=sys.stderr)
        if results[name].get(FAILED_CHECKS):
            failed.append(name)
    return failed


if __name__ == "__main__":
    sys.exit(main())
