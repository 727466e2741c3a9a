"""`python -m flashsale_load.workers`: the worker-scaling experiment. For each consumer (the ECS
processor, the payment Lambda) and each concurrency, a backlog is built on an empty queue while
the consumer is paused, then drained; orders/s are charted against concurrency / latency. The
backlog grows with concurrency so that each point drains for DRAIN_SECONDS at the theoretical
rate. The Lambda's runtime processes are sampled for their peak RSS.

    CONCURRENCIES="1 5 20 100" DRAIN_SECONDS=15 WORKERS_LATENCY=0.5 python -m flashsale_load.workers
    WORKER_TARGETS=ecs python -m flashsale_load.workers

Each consumer is put back as it was at the end (settings read from the running processes).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from flashsale_kit.api import Api
from flashsale_kit.polling import Ticker, poll
from flashsale_kit.running import RunningStack
from flashsale_load import config, machine, plots, scenarios
from flashsale_load.analysis import OrderRecord
from flashsale_load.bench import rss
from flashsale_load.config import WorkersSettings
from flashsale_load.consumers import (
    MESSAGES_PER_PAYMENT,
    Consumer,
    alone,
    consumer,
    lambda_split,
)
from flashsale_load.drain import DrainResult, drain_result
from flashsale_load.leftovers import start_on_empty_queues
from flashsale_load.order_records import wait_terminal, write_records
from flashsale_load.phases import order_body
from flashsale_load.report import Column, fmt_num, machine_section, rows_table, with_derived
from localaws_lambda_executor.scaling import AWS_SCALE_UP_PER_MINUTE, SCALE_UP_VAR


def drain_step(
    stack: RunningStack,
    target: Consumer,
    concurrency: int,
    backlog: int,
    latency_s: float,
    timeout: float,
    out_dir: Path,
) -> tuple[DrainResult, dict[str, OrderRecord | None]]:
    """Pause, build the backlog (async orders through the API), resume at `concurrency`, wait
    for every order to finish."""
    url = stack.queues[target.queue]
    target.pause()
    api = Api(config.api_url(), pool=8)
    try:
        rng = random.Random(1)
        answers = api.place_many([(target.route, order_body(rng)) for _ in range(backlog)], 8)
        order_ids = [a.order_id for a in answers if a.accepted and isinstance(a.order_id, str)]
        if len(order_ids) < backlog:
            print(f"  {backlog - len(order_ids)} of {backlog} orders were refused by the API")
        poll(lambda: stack.queue_depth(url) >= len(order_ids), 30, 0.5)
        calls_before = stack.dynamodb_calls()
        calls_after: list[dict[str, int] | None] = []

        def queued() -> int:
            depth = stack.queue_depth(url)
            if depth == 0 and not calls_after:  # every message deleted: every order written
                calls_after.append(stack.dynamodb_calls())
            return depth

        resumed = time.time()
        target.resume(concurrency, latency_s)
        # no look-ups through the API before the queue is empty: they would be counted too
        records = wait_terminal(api, order_ids, timeout, queued, recheck_s=timeout)
    finally:
        api.close()
    write_records(out_dir / f"{target.name}-c{concurrency}-orders.csv", records)
    calls = None
    if calls_before is not None and calls_after and calls_after[0] is not None:
        calls = sum(calls_after[0].values()) - sum(calls_before.values())
    result = drain_result(target.name, concurrency, latency_s, resumed, records, calls)
    return result, records


def lambda_note(stack: RunningStack, concurrencies: Sequence[int], latency_s: float) -> str:
    splits = ", ".join(
        f"{c} = {s.batches} x {s.per_invocation} (batches of {s.batch_size})"
        for c in concurrencies
        for s in [lambda_split(c, latency_s)]
    )
    return (
        "lambda: concurrent payments = batches in flight (the mapping's MaximumConcurrency; a "
        f"reserved concurrency of 1 for one batch) x payments per invocation: {splits}. "
        f"Trigger scale-up: {trigger_scale_up(stack)}. ecs: {MESSAGES_PER_PAYMENT} messages in "
        "flight per payment slot."
    )


def trigger_scale_up(stack: RunningStack) -> str:
    """The SQS trigger's scale-up rate, as LocalStack was started."""
    raw = machine.component_env(stack.run_dir, "localstack").get(SCALE_UP_VAR, "")
    if raw:
        return f"{raw} batches/min ({SCALE_UP_VAR})"
    return f"{AWS_SCALE_UP_PER_MINUTE:g} batches/min (AWS's rate)"


class PeakRss:
    """The Lambda's runtime processes, sampled (`sample`, on a Ticker): the peak of their summed
    RSS and of their count."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.total_mib: float | None = None
        self.processes = 0

    def sample(self) -> None:
        pids = rss.lambda_pids(self.stack.function_name, self.stack.run_dir)
        known = [size for size in map(rss.rss_mib, pids) if size is not None]
        if known:
            self.total_mib = max(self.total_mib or 0.0, sum(known))
            self.processes = max(self.processes, len(known))


#: the scaling table: one row per (consumer, concurrency)
COLUMNS: list[Column] = [
    ("consumer", lambda r: r.consumer),
    ("concurrency", lambda r: str(r.concurrency)),
    ("backlog", lambda r: str(r.backlog)),
    ("drain time", lambda r: fmt_num(r.steady_s, 1, "s")),
    ("orders/s", lambda r: fmt_num(r.rate_per_s, 1)),
    ("theoretical/s", lambda r: fmt_num(r.theoretical_per_s, 1)),
    ("ratio", lambda r: fmt_num(r.ratio, 2)),
    ("incl. start-up", lambda r: fmt_num(r.wall_s, 1, "s")),
    ("DynamoDB calls/order", lambda r: fmt_num(r.dynamodb_calls_per_order, 1)),
    ("unfinished", lambda r: str(r.unfinished)),
]


def render(
    results: Sequence[DrainResult],
    settings: WorkersSettings,
    chart: str,
    notes: Sequence[str] = (),
) -> str:
    return (
        "\n\n".join(
            [
                "# Worker scaling: one backlog drained at each concurrency",
                f"Backlog of {settings.drain_s:g} s of work at the theoretical rate for each "
                f"point, payment latency {settings.latency_s:g} s, each point on empty queues. "
                "Drain time runs from the first order picked up to the last outcome; "
                "theoretical = concurrency / latency.",
                rows_table(COLUMNS, results),
                *notes,
                f"![scaling]({chart})",
                machine_section(machine.machine_info()),
            ]
        )
        + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    settings = WorkersSettings.from_env()
    stack = RunningStack.applied()
    out_dir = scenarios.run_dir(config.results_dir(), "workers")
    print(f"worker scaling: results in {out_dir}", flush=True)
    results: list[DrainResult] = []
    notes: list[str] = []
    failed = False
    for name in settings.targets:
        target = consumer(name, stack)
        if name == "lambda":
            notes.append(lambda_note(stack, settings.concurrencies, settings.latency_s))
        try:
            with alone(stack, target):
                for concurrency in settings.concurrencies:
                    backlog = settings.backlog(concurrency)
                    start = start_on_empty_queues(stack, settings.step_timeout_s)
                    print(
                        f"{name}: concurrency {concurrency}, backlog {backlog}; {start.describe()}",
                        flush=True,
                    )
                    peak = PeakRss(stack)
                    with Ticker(peak.sample, 1.0, "peak-rss"):
                        result, _ = drain_step(
                            stack,
                            target,
                            concurrency,
                            backlog,
                            settings.latency_s,
                            settings.step_timeout_s,
                            out_dir,
                        )
                    results.append(result)
                    print(f"  {result.line()}", flush=True)
                    if name == "lambda" and concurrency == max(settings.concurrencies):
                        rss_line = (
                            f"lambda at {concurrency} concurrent payments: peak RSS of the runtime "
                            f"processes {fmt_num(peak.total_mib, 0, 'MiB')} in {peak.processes} "
                            "processes"
                        )
                        print(f"  {rss_line}", flush=True)
                        notes.append(rss_line + ".")
        except Exception as exc:  # report what was measured (alone put the consumers back)
            failed = True
            print(f"{name}: stopped: {exc}", file=sys.stderr)
    concurrencies = sorted(settings.concurrencies)
    chart = plots.scaling_chart(
        {
            name: [
                (r.concurrency, r.rate_per_s)
                for r in results
                if r.consumer == name and r.rate_per_s
            ]
            for name in settings.targets
        },
        [(c, c / settings.latency_s) for c in concurrencies],
        out_dir / "workers.png",
        f"Drain rate vs concurrency (latency {settings.latency_s:g} s)",
    )
    (out_dir / "workers.md").write_text(render(results, settings, chart.name, notes))
    (out_dir / "workers.json").write_text(
        json.dumps(
            {"settings": settings.__dict__, "results": [with_derived(r) for r in results]}, indent=2
        )
    )
    print(f"report: {out_dir / 'workers.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
