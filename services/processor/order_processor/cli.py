"""`order-processor run|redrive|sweep`: wires the real adapters from Settings, runs a command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace

from flashsale import aws, bootstrap, tracing
from flashsale.settings import Settings
from order_processor import logs, signals
from order_processor.config import MAX_WAIT_SECONDS, ProcessorConfig
from order_processor.queue import SqsQueue
from order_processor.reconciler import ReconcileConfig, Reconciler, print_result
from order_processor.redrive import redrive
from order_processor.sweep_sources import SqsRouteQueues
from order_processor.sweeper import PeriodicSweeper, Reason, SweepConfig, Sweeper
from order_processor.worker import Worker

log = logging.getLogger("order_processor")

#: The sweep inside `run`: how often, and how old a pending order must be to count as stale.
SWEEP_EVERY_SECONDS = 30.0
SWEEP_AFTER_SECONDS = 120.0
#: The reconciler inside `run`: how often (each pass scans the orders table, which stalls other
#: requests on a local emulator with a large table), and how long an order may stay `processing`.
RECONCILE_EVERY_SECONDS = 300.0
RECONCILE_AFTER_SECONDS = 60.0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="order-processor", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="consume the order queue until SIGTERM/SIGINT")
    run.add_argument("--queue-url", help="default: ORDER_QUEUE_URL, else looked up by name")
    run.add_argument("--concurrency", type=int, help="payments at once (PROCESSOR_CONCURRENCY)")
    run.add_argument(
        "--wait-time",
        type=int,
        dest="wait_time_seconds",
        help=f"long poll, 0..{MAX_WAIT_SECONDS} s",
    )
    run.add_argument("--visibility-timeout", type=int, help="seconds; renewed while paying")
    run.add_argument("--summary-every", type=int, help="log a summary every N messages")
    run.add_argument("--stop-timeout", type=float, help="seconds to finish in-flight payments")
    run.add_argument(
        "--sweep-every",
        type=float,
        default=SWEEP_EVERY_SECONDS,
        help="seconds between sweeps for orders whose message was lost (0: no sweeping)",
    )
    run.add_argument(
        "--sweep-after",
        type=float,
        default=SWEEP_AFTER_SECONDS,
        help="seconds a pending order waits before the sweeper may re-publish it",
    )
    run.add_argument(
        "--reconcile-every",
        type=float,
        default=RECONCILE_EVERY_SECONDS,
        help="seconds between reconciliations of unknown payment outcomes (0: none)",
    )
    run.add_argument(
        "--reconcile-after",
        type=float,
        default=RECONCILE_AFTER_SECONDS,
        help="seconds an order stays processing before its outcome counts as unknown",
    )

    settle = commands.add_parser(
        "reconcile",
        help="settle orders left processing from the gateway's answer (by idempotency key)",
    )
    settle.add_argument(
        "--older-than",
        type=float,
        default=RECONCILE_AFTER_SECONDS,
        help="seconds an order stays processing before its outcome counts as unknown",
    )
    settle.add_argument("--dry-run", action="store_true", help="list, do not settle")

    move = commands.add_parser("redrive", help="move dead-lettered messages back to the queue")
    move.add_argument(
        "--queue",
        choices=["order", "payment"],
        default="order",
        help="which pipeline queue: the processor's (order) or the Lambda's (payment)",
    )
    move.add_argument("--queue-url", help="destination; default: the --queue queue")
    move.add_argument("--dlq-url", help="source; default: the --queue queue's DLQ")
    move.add_argument("--max", type=int, dest="max_messages", help="move at most N (copying)")
    move.add_argument(
        "--copy", action="store_true", help="receive/send/delete instead of a message move task"
    )

    sweep = commands.add_parser(
        "sweep", help="re-publish OrderPlaced for accepted orders whose message was lost"
    )
    sweep.add_argument(
        "--older-than",
        type=float,
        default=SWEEP_AFTER_SECONDS,
        help="seconds a pending order waits before it counts as stale",
    )
    sweep.add_argument(
        "--force",
        action="store_true",
        help="re-publish every stale order, even while the queue's backlog could hold them",
    )
    sweep.add_argument("--dry-run", action="store_true", help="list, do not publish")
    return root


def sweeper(settings: Settings, config: SweepConfig) -> Sweeper:
    return Sweeper(
        bootstrap.order_store(settings),
        SqsRouteQueues.from_settings(aws.client("sqs", settings), settings),
        bootstrap.publisher(settings),
        config,
    )


def reconciler(settings: Settings, config: ReconcileConfig) -> Reconciler:
    return Reconciler(bootstrap.order_store(settings), bootstrap.payment_deps(settings), config)


def run(args: argparse.Namespace, settings: Settings) -> int:
    config = ProcessorConfig.from_settings(
        settings,
        queue_url=args.queue_url,
        concurrency=args.concurrency,
        wait_time_seconds=args.wait_time_seconds,
        visibility_timeout=args.visibility_timeout,
        summary_every=args.summary_every,
        stop_timeout=args.stop_timeout,
    )
    if config.concurrency < config.payment_concurrency:
        log.warning(
            "PROCESSOR_CONCURRENCY is below PAYMENT_CONCURRENCY: some payment slots stay idle",
            extra={"payment_concurrency": config.payment_concurrency},
        )
    traced = tracing.configure(settings, service="order-processor")
    queue = SqsQueue.resolve(aws.client("sqs", settings), config.queue_url, config.queue_name)
    deps = bootstrap.payment_deps(settings)
    if traced:  # each charge a subsegment of its message's segment
        deps = replace(deps, gateway=tracing.TracedGateway(deps.gateway))
    worker = Worker(queue, deps, config)
    signals.install(worker.stop)
    periodic = _periodic_sweeper(settings, args)
    if periodic is not None:
        periodic.start()
    try:
        return 0 if worker.run() else 1
    finally:
        if periodic is not None:
            periodic.stop()


def _periodic_sweeper(settings: Settings, args: argparse.Namespace) -> PeriodicSweeper | None:
    """The sweep (and the reconciler) inside `run`; None when off, or when it cannot be wired
    (logged: the worker still runs, it is only the safety net that is missing)."""
    if args.sweep_every <= 0:
        return None
    try:
        reconcile = None
        if args.reconcile_every > 0:
            config = ReconcileConfig(older_than=args.reconcile_after)
            reconcile = reconciler(settings, config).reconcile
        return PeriodicSweeper(
            sweeper(settings, SweepConfig(older_than=args.sweep_after)),
            args.sweep_every,
            reconcile=reconcile,
            reconcile_every=max(args.reconcile_every, args.sweep_every),
        )
    except Exception as exc:
        log.warning("sweeping disabled: %s", exc)
        return None


def reconcile(args: argparse.Namespace, settings: Settings) -> int:
    config = ReconcileConfig(older_than=args.older_than, dry_run=args.dry_run)
    result = reconciler(settings, config).reconcile()
    print_result(result, args.dry_run, print)
    return 1 if result.unresolved else 0


def sweep(args: argparse.Namespace, settings: Settings) -> int:
    config = SweepConfig(older_than=args.older_than, force=args.force, dry_run=args.dry_run)
    result = sweeper(settings, config).sweep()
    verb = "would re-publish" if args.dry_run else "re-published"
    tally = result.republished
    print(
        f"{verb} {tally.total} order(s): {len(tally[Reason.LOST])} lost with "
        f"their queue, {len(tally[Reason.STALE])} stale; {result.waiting} stale "
        "order(s) left to the queue's backlog"
    )
    for reason, order_ids in tally.items():
        for order_id in order_ids:
            print(f"  {reason:<6} {order_id}")
    if result.unreachable:
        print(f"queue unreadable for route(s): {', '.join(result.unreachable)}", file=sys.stderr)
    if result.failed:
        print(f"{len(result.failed)} re-publish(es) failed", file=sys.stderr)
    return 1 if result.failed or result.unreachable else 0


def move(args: argparse.Namespace, settings: Settings) -> int:
    config = ProcessorConfig.from_settings(settings)
    client = aws.client("sqs", settings)
    if args.queue == "payment":
        queue_url, queue_name = settings.payment_queue_url, f"{settings.env_name}-payment-queue"
        dlq_url, dlq_name = settings.payment_dlq_url, f"{settings.env_name}-payment-dlq"
    else:
        queue_url, queue_name = config.queue_url, config.queue_name
        dlq_url, dlq_name = config.dlq_url, config.dlq_name
    source = args.queue_url or SqsQueue.resolve(client, queue_url, queue_name).url
    dlq = args.dlq_url or SqsQueue.resolve(client, dlq_url, dlq_name).url
    result = redrive(
        client, dlq, source, use_move_task=not args.copy, max_messages=args.max_messages
    )
    print(f"moved {result.moved} message(s) from {dlq} to {source} ({result.method})")
    if result.failed:
        print(f"{result.failed} message(s) could not be sent and stay in the DLQ", file=sys.stderr)
    return 0 if not result.failed else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    commands = {"run": run, "redrive": move, "sweep": sweep, "reconcile": reconcile}
    return commands[args.command](args, settings)
