"""`python -m flashsale_load.bench`: the project's benchmarks, against the local
stack, bounded in time; prints the figures and writes bench.json under results/.

1. acceptance: sustained async orders/s with p99 under the limit (users stepped until p99 crosses
   it), against the API and against a bare Flask+gunicorn endpoint with the API's gunicorn
   settings, started here on BENCH_BARE_PORT -> `acceptance ratio: X.XX`.
   The acceptance orders are benchmark traffic: their queued messages are purged afterwards
   and the orders failed with their stock released.
2. draining, for each consumer (BENCH_CONSUMER: "ecs lambda", the processor and the payment
   Lambda): the consumer paused, a backlog placed, the consumer resumed with a short latency
   -> `drain ratio (<consumer>): X.XX` against concurrency / latency, with the DynamoDB calls
   per order; the ledger must hold one charge per order; the consumer is put back afterwards.
3. payment_fn cold start: module init in a fresh interpreter; first and warm invoke latency.
4. RSS of the API, the processor and the Lambda process at the end.

    python -m flashsale_load.bench                       # everything
    python -m flashsale_load.bench --only acceptance drain
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import requests

from flashsale_load import config, machine, proc, scenarios
from flashsale_load.bench import acceptance, coldstart, rss
from flashsale_load.config import BenchSettings
from flashsale_load.consumers import LambdaConsumer, consumer
from flashsale_load.drain import ledger_check
from flashsale_load.ledger import count_charges
from flashsale_load.platform import Stack
from flashsale_load.report import fmt_num
from flashsale_load.workers import drain_step, trigger_scale_up

SECTIONS = ("acceptance", "drain", "coldstart", "rss")
GUNICORN_KEYS = ("API_WORKERS", "API_THREADS", "API_TIMEOUT", "API_ACCESS_LOG", "API_LOG_LEVEL")


def api_gunicorn_env(stack: Stack) -> dict[str, str]:
    """The API process's own gunicorn settings, so the bare endpoint runs like it."""
    pid = machine.pid_records(stack.run_dir).get("api")
    environ = machine.process_environ(pid) if pid else {}
    return {key: environ[key] for key in GUNICORN_KEYS if key in environ}


def bench_acceptance(stack: Stack, s: BenchSettings, out: Path) -> dict[str, Any]:
    api = config.api_url()
    print(
        f"acceptance: users {list(s.step_users)}, {s.step_seconds} s each, "
        f"p99 limit {s.p99_limit_ms:g} ms",
        flush=True,
    )
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    api_steps = acceptance.run_steps(
        "api", api, s.step_users, s.step_seconds, out / "acceptance", s.p99_limit_ms
    )
    # the accepted orders are benchmark traffic: drop their messages and fail them rather than
    # leave hours of 3 s payments queued
    purged = discard_backlog(stack, "order-queue", since=started)
    print(f"  discarded {purged} benchmark orders from the order queue", flush=True)
    gunicorn_env = api_gunicorn_env(stack)
    with acceptance.bare_server(
        s.bare_port, out / "bare-gunicorn.log", {**os.environ, **gunicorn_env}
    ) as bare_url:
        bare_steps = acceptance.run_steps(
            "bare", bare_url, s.step_users, s.step_seconds, out / "acceptance", s.p99_limit_ms
        )
    best_api = acceptance.sustained(api_steps, s.p99_limit_ms)
    best_bare = acceptance.sustained(bare_steps, s.p99_limit_ms)
    ratio = best_api.rps / best_bare.rps if best_api and best_bare and best_bare.rps else None
    for label, best in (("api", best_api), ("bare endpoint", best_bare)):
        if best:
            print(
                f"sustained {label}: {best.rps:.1f} orders/s at {best.users} users "
                f"(p99 {best.p99_ms:.0f} ms)"
            )
        else:
            print(f"sustained {label}: no step kept p99 under {s.p99_limit_ms:g} ms")
    print(f"acceptance ratio: {ratio:.2f}" if ratio is not None else "acceptance ratio: n/a")
    return {
        "p99_limit_ms": s.p99_limit_ms,
        "gunicorn": gunicorn_env or "defaults",
        "api_steps": acceptance.steps_json(api_steps),
        "bare_steps": acceptance.steps_json(bare_steps),
        "api_sustained_rps": best_api.rps if best_api else None,
        "bare_sustained_rps": best_bare.rps if best_bare else None,
        "ratio": ratio,
    }


def discard_backlog(stack: Stack, queue: str, since: str | None = None) -> int:
    """Drop the queued messages; with `since` (ISO time), also fail the orders they were for.

    Failing them (stock given back) keeps the books straight and stops the processor's sweeper
    from re-publishing them later as orders whose message was lost.
    """
    url = stack.queues[queue]
    depth = stack.queue_depth(url)
    stack.sqs.purge_queue(QueueUrl=url)
    proc.wait_for(lambda: stack.queue_depth(url) == 0, 60, 0.5)
    if since is not None:
        failed = fail_pending_orders(stack, since)
        print(f"  failed {failed} discarded benchmark orders (stock released)", flush=True)
    return depth


def fail_pending_orders(stack: Stack, since: str) -> int:
    """Move the `pending` ECS orders created since `since` to `failed` and release their stock."""
    from flashsale import bootstrap
    from flashsale.domain.model import OrderStatus

    orders = bootstrap.order_store(stack.settings)
    pages = stack.dynamodb.get_paginator("scan").paginate(
        TableName=stack.settings.orders_table,
        ProjectionExpression="order_id",
        FilterExpression="#s = :pending AND #r = :ecs AND created_at >= :since",
        ExpressionAttributeNames={"#s": "status", "#r": "route"},
        ExpressionAttributeValues={
            ":pending": {"S": "pending"},
            ":ecs": {"S": "ecs"},
            ":since": {"S": since},
        },
    )
    failed = 0
    for page in pages:
        for item in page.get("Items", []):
            order_id = item["order_id"]["S"]
            moved = orders.transition(
                order_id,
                {OrderStatus.PENDING},
                OrderStatus.FAILED,
                failure_reason="discarded_benchmark_traffic",
            )
            if moved:
                orders.release_stock(order_id)
                failed += 1
    return failed


def bench_drain(stack: Stack, s: BenchSettings, out: Path) -> dict[str, Any]:
    """Each consumer in turn: `drain ratio (<consumer>): X.XX`."""
    return {name: drain_one(stack, s, out, name) for name in s.drain_consumers}


def drain_one(stack: Stack, s: BenchSettings, out: Path, name: str) -> dict[str, Any]:
    target = consumer(name, stack)
    how = ""
    if isinstance(target, LambdaConsumer):
        split = target.split(s.drain_concurrency)
        how = (
            f" ({split.batches} batches in flight x {split.per_invocation} payments each; "
            f"trigger scale-up {trigger_scale_up(stack)})"
        )
    print(
        f"drain ({target.name}): backlog {s.drain_backlog}, concurrency {s.drain_concurrency}"
        f"{how}, latency {s.drain_latency_s:g} s",
        flush=True,
    )
    try:
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
    finally:
        target.restore()
    check = ledger_check(count_charges(stack.dynamodb, stack.settings.payments_table, records))
    print(
        f"drained {result.finished}/{result.backlog} in {fmt_num(result.steady_s, 1, 's')}: "
        f"{fmt_num(result.rate_per_s, 1)} orders/s, theoretical {result.theoretical_per_s:.1f}/s "
        f"(incl. start-up {fmt_num(result.wall_rate_per_s, 1)}/s)"
    )
    print(
        f"drain ratio ({target.name}): {fmt_num(result.ratio, 2)}  "
        f"(DynamoDB calls per order: {fmt_num(result.dynamodb_calls_per_order, 1)})"
    )
    print(
        f"ledger: {check.charged_once}/{check.orders} charged once, "
        f"{len(check.never_charged)} never charged, "
        f"{len(check.charged_more_than_once)} charged more than once; "
        f"{result.unfinished} unfinished"
    )
    return {
        **result.as_dict(),
        "ledger": {
            "orders": check.orders,
            "charged_once": check.charged_once,
            "never_charged": list(check.never_charged[:20]),
            "charged_more_than_once": list(check.charged_more_than_once[:20]),
            "ok": check.ok,
        },
    }


def bench_coldstart(stack: Stack, s: BenchSettings, out: Path) -> dict[str, Any]:
    init = coldstart.module_init_seconds(coldstart.function_process_env(stack))
    times = coldstart.invoke_times(stack, s.warm_invokes)
    print(
        f"payment_fn init (import + Powertools setup, fresh interpreter): "
        f"{min(init) * 1000:.0f} ms (runs: {', '.join(f'{t * 1000:.0f}' for t in init)} ms); "
        f"warm invoke p50 {fmt_num(times.warm_p50_ms, 0, 'ms')}"
    )
    print(
        f"payment_fn first invoke after a config change: {times.cold_ms:.0f} ms; warm p50 "
        f"{fmt_num(times.warm_p50_ms, 0, 'ms')}; cold overhead "
        f"{fmt_num(times.cold_overhead_ms, 0, 'ms')}"
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


def bench_rss(stack: Stack, s: BenchSettings, out: Path) -> dict[str, Any]:
    if not rss.lambda_pids(stack.function_name):
        coldstart.invoke_probe(stack)  # a configuration change retired the runtime process
    report = rss.stack_rss(stack.run_dir, stack.function_name)
    for name, per_pid in report.items():
        shown = ", ".join(f"pid {pid}: {mib} MiB" for pid, mib in per_pid.items()) or "not found"
        print(f"RSS {name}: {shown}")
    return report


RUNNERS: dict[str, Callable[[Stack, BenchSettings, Path], dict[str, Any]]] = {
    "acceptance": bench_acceptance,
    "drain": bench_drain,
    "coldstart": bench_coldstart,
    "rss": bench_rss,
}


def _api_up(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flashsale_load.bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    args = parser.parse_args(argv)
    settings = BenchSettings.from_env()
    stack = Stack.local()
    if not _api_up(config.api_url()):
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
    failed = []
    for name in args.only:
        try:
            results[name] = RUNNERS[name](stack, settings, out)
        except Exception as exc:
            failed.append(name)
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            traceback.print_exc(limit=3)
    (out / "bench.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {out / 'bench.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
