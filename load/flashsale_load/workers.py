"""`python -m flashsale_load.workers`: the worker-scaling experiment. For each consumer (the ECS
processor, the payment Lambda) and each concurrency, the same backlog is built while the consumer
is paused, then drained; drain time and orders/s are charted against concurrency / latency.

    CONCURRENCIES="1 5 20 100" BACKLOG=200 WORKERS_LATENCY=0.5 python -m flashsale_load.workers
    WORKER_TARGETS=ecs python -m flashsale_load.workers

Each consumer is put back as it was at the end (settings read from the running processes).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from flashsale_load import config, machine, platform, plots, proc, scenarios
from flashsale_load.analysis import OrderRecord
from flashsale_load.backlog import place_orders
from flashsale_load.config import WorkersSettings
from flashsale_load.consumers import Consumer, consumer
from flashsale_load.drain import DrainResult, drain_result
from flashsale_load.leftovers import start_on_empty_queues
from flashsale_load.orders_client import OrdersClient, wait_terminal, write_records
from flashsale_load.platform import Stack
from flashsale_load.report import fmt_num, machine_section, table


def drain_step(
    stack: Stack,
    target: Consumer,
    concurrency: int,
    backlog: int,
    latency_s: float,
    timeout: float,
    out_dir: Path,
) -> tuple[DrainResult, dict[str, OrderRecord | None]]:
    """Pause, build the backlog, resume at `concurrency`, wait for every order to finish."""
    api = config.api_url()
    url = stack.queues[target.queue]
    target.pause()
    placed = place_orders(api, target.route, backlog)
    if placed.rejected:
        print(f"  {placed.rejected} of {backlog} orders were refused by the API", flush=True)
    proc.wait_for(lambda: stack.queue_depth(url) >= len(placed.order_ids), 30, 0.5)
    resumed = time.time()
    target.resume(concurrency, latency_s)
    client = OrdersClient(api)
    try:
        records = wait_terminal(
            client, placed.order_ids, timeout, backlog=lambda: stack.queue_depth(url)
        )
    finally:
        client.close()
    write_records(out_dir / f"{target.name}-c{concurrency}-orders.csv", records)
    return drain_result(target.name, concurrency, latency_s, resumed, records), records


def lambda_note(stack: Stack) -> str:
    mapping = platform.payment_mapping(stack) or {}
    batch = mapping.get("BatchSize", "?")
    return (
        f"lambda: the event source mapping hands batches of up to {batch} messages to one "
        "invocation, which pays them PAYMENT_CONCURRENCY at a time; community LocalStack polls "
        "with one poller and invokes one batch at a time, so at most "
        f"{batch} payments run together locally whatever the concurrency asked."
    )


def render(
    results: Sequence[DrainResult],
    settings: WorkersSettings,
    chart: str,
    notes: Sequence[str] = (),
) -> str:
    rows = [
        [
            r.consumer,
            str(r.concurrency),
            str(r.backlog),
            fmt_num(r.steady_s, 1, "s"),
            fmt_num(r.rate_per_s, 1),
            fmt_num(r.theoretical_per_s, 1),
            fmt_num(r.ratio, 2),
            fmt_num(r.wall_s, 1, "s"),
            str(r.unfinished),
        ]
        for r in results
    ]
    header = [
        "consumer",
        "concurrency",
        "backlog",
        "drain time",
        "orders/s",
        "theoretical/s",
        "ratio",
        "incl. start-up",
        "unfinished",
    ]
    return (
        "\n\n".join(
            [
                "# Worker scaling: one backlog drained at each concurrency",
                f"Backlog of {settings.backlog} orders, payment latency {settings.latency_s:g} s. "
                "Drain time runs from the first order picked up to the last outcome; "
                "theoretical = concurrency / latency.",
                table(header, rows),
                f"![scaling]({chart})",
                machine_section(machine.machine_info()),
            ]
        )
        + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    settings = WorkersSettings.from_env()
    stack = Stack.local()
    out_dir = scenarios.run_dir(config.results_dir(), "workers")
    print(f"worker scaling: results in {out_dir}", flush=True)
    results: list[DrainResult] = []
    notes: list[str] = []
    failed = False
    for name in settings.targets:
        target = consumer(name, stack)
        if name == "lambda":
            notes.append(lambda_note(stack))
        try:
            for concurrency in settings.concurrencies:
                start = start_on_empty_queues(stack, settings.step_timeout_s)
                print(f"{name}: concurrency {concurrency}; {start.describe()}", flush=True)
                result, _ = drain_step(
                    stack,
                    target,
                    concurrency,
                    settings.backlog,
                    settings.latency_s,
                    settings.step_timeout_s,
                    out_dir,
                )
                results.append(result)
                print(
                    f"  drained {result.finished}/{result.backlog} in "
                    f"{fmt_num(result.steady_s, 1, 's')}: {fmt_num(result.rate_per_s, 1)}/s "
                    f"(theoretical {result.theoretical_per_s:.1f}/s)",
                    flush=True,
                )
        except Exception as exc:  # report what was measured, then put the consumer back
            failed = True
            print(f"{name}: stopped: {exc}", file=sys.stderr)
        finally:
            target.restore()
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
            {"settings": settings.__dict__, "results": [r.as_dict() for r in results]}, indent=2
        )
    )
    print(f"report: {out_dir / 'workers.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
