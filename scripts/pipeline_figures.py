"""The pipeline's benchmark figures for the closing note; printed, and written as JSON to
results/pipeline-figures-<stamp>.json. Figures, not assertions.

1. async acceptance: requests/s, p50 and p99 of POST /orders/async with 20 and 100 closed-loop
   clients (locust FastHttpUser, headless, `--seconds` each, statistics reset once all clients run);
2. sync: orders completed by 20 closed-loop clients of POST /orders/sync over the span measured
   (the first order placed to the last answer locust saw, about 60 s), counted in the private
   API's orders table (`completed`; a 402 decline is an answer, not a completed order), and per
   minute of that span (the original system: 19 in 60 s, 29.5 s average wait).

The load runs against a private API started here: the same gunicorn settings and code as the
pipeline's API (2 gthread workers, one payment slot each), on its own free port, with its own
tables, catalog and topic (ENV_NAME=figures<pid>) on the same LocalStack and moto. The topic's
one subscriber is a queue nobody reads, so the accepted orders leave no backlog for the shared
processor or Lambda, and the sync clients do not hold the shared API's threads. Everything it
creates is deleted at the end. The load generator shares the machine's cores with the API and
the emulators.

    python scripts/pipeline_figures.py [--users 20 100] [--seconds 20] [--sync-seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from flashsale.adapters.dynamodb import DynamoDbProductStore, create_tables
from flashsale.catalog import generate
from flashsale.settings import Settings
from flashsale_kit.api import answers
from flashsale_kit.polling import poll
from flashsale_kit.running import stack_env
from flashsale_load import config, machine, proc, run
from flashsale_load.analysis import parse_ts
from flashsale_load.bench import acceptance
from flashsale_load.report import fmt_num
from localaws.config import HOST, PlatformConfig
from localaws.pipeline import service_env

#: the original system's sync figure (seed write-up): orders completed in 60 s by 20 clients
SEED_SYNC_ORDERS = 19
NO_LIMIT_MS = 1e9  # acceptance steps are reported, never cut short by a p99 limit


@dataclass(frozen=True)
class Resources:
    """What the private API needs: four tables, a topic, the queue that swallows its events."""

    settings: Settings
    topic_arn: str
    queue_url: str


def platform_env() -> dict[str, str]:
    """The running platform's client environment (the env file `make up` writes), then ours."""
    return {**stack_env(), **os.environ}


def provision(env_name: str) -> Resources:
    settings = Settings.from_env({**os.environ, "ENV_NAME": env_name})
    ddb, sns, sqs = boto3.client("dynamodb"), boto3.client("sns"), boto3.client("sqs")
    create_tables(ddb, settings)
    DynamoDbProductStore(ddb, settings.products_table).seed(generate())
    topic_arn = sns.create_topic(Name=f"{env_name}-order-events")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{env_name}-order-sink")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return Resources(settings, topic_arn, queue_url)


def teardown(res: Resources) -> None:
    ddb, sns, sqs = boto3.client("dynamodb"), boto3.client("sns"), boto3.client("sqs")
    with suppress(Exception):
        sns.delete_topic(TopicArn=res.topic_arn)
    with suppress(Exception):
        sqs.delete_queue(QueueUrl=res.queue_url)
    s = res.settings
    for table in (s.orders_table, s.products_table, s.idempotency_table, s.payments_table):
        with suppress(Exception):
            ddb.delete_table(TableName=table)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def private_api(res: Resources, log_path: Path) -> Iterator[str]:
    """The order API under gunicorn with the pipeline API's settings, on a free port."""
    port = free_port()
    env = {
        **os.environ,
        **service_env(PlatformConfig.from_env()),
        "ENV_NAME": res.settings.env_name,
        "ORDER_TOPIC_ARN": res.topic_arn,
        "API_HOST": HOST,
        "API_PORT": str(port),
        "PAYMENT_CONCURRENCY": "1",
    }
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:orders_api.gunicorn_conf"]
    process = proc.start([*argv, "orders_api.wsgi:app"], log_path, env)
    url = f"http://{HOST}:{port}"
    try:
        if not poll(lambda: answers(url) or process.poll() is not None, 60):
            raise RuntimeError(f"the private API did not get ready on {url} (see {log_path})")
        if process.poll() is not None:
            raise RuntimeError(f"the private API exited ({process.returncode}), see {log_path}")
        yield url
    finally:
        proc.stop(process, grace=35)


def async_acceptance(url: str, users: list[int], seconds: int, out: Path) -> list[dict]:
    print(f"async acceptance: {users} closed-loop clients, {seconds} s each", flush=True)
    steps = acceptance.run_steps("async", url, users, seconds, out, NO_LIMIT_MS)
    return [asdict(step) for step in steps]


@dataclass(frozen=True)
class SyncOutcomes:
    """The private API's sync orders up to the last answer locust saw."""

    #: when the first sync order was placed (unix time; None: no order)
    first_ts: float | None
    completed: int
    declined: int


def sync_outcomes(settings: Settings, last_ts: float) -> SyncOutcomes:
    """Sync orders of the private orders table completed, and failed (402: declined), by
    `last_ts`; the first order's placing time starts the measured span."""
    pages = (
        boto3.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=settings.orders_table,
            FilterExpression="#r = :sync",
            ProjectionExpression="#s, created_at, completed_at, failed_at",
            ExpressionAttributeNames={"#r": "route", "#s": "status"},
            ExpressionAttributeValues={":sync": {"S": "sync"}},
            ConsistentRead=True,
        )
    )
    items = [item for page in pages for item in page.get("Items", [])]

    def ts(item: dict, key: str) -> float | None:
        return parse_ts(item[key]["S"]) if key in item else None

    def settled(status: str) -> int:
        return sum(
            1
            for item in items
            if item["status"]["S"] == status
            and (ts(item, f"{status}_at") or last_ts + 1) <= last_ts
        )

    created = [t for t in (ts(item, "created_at") for item in items) if t is not None]
    return SyncOutcomes(min(created, default=None), settled("completed"), settled("failed"))


def sync_completed(
    url: str, settings: Settings, users: int, seconds: int, out: Path
) -> dict[str, Any]:
    """Closed-loop clients on POST /orders/sync for `seconds`: orders completed within the span
    locust measured (locust drops the requests still waiting when the run ends)."""
    print(f"sync: {users} closed-loop clients for {seconds} s", flush=True)
    run_dir = out / f"sync-u{users}"
    stats = run.closed_loop("sync", url, users, seconds, run_dir, grace_s=90)
    if stats is None:
        raise RuntimeError(f"no sync statistics (see {run_dir / 'locust.log'})")
    outcomes = sync_outcomes(settings, stats.last_ts) if stats.last_ts else None
    span = stats.last_ts - outcomes.first_ts if outcomes and outcomes.first_ts is not None else None
    completed = outcomes.completed if outcomes and span else None
    figures = {
        "users": users,
        "seconds": seconds,
        "measured_span_s": None if span is None else round(span, 1),
        "completed": completed,
        "declined": outcomes.declined if outcomes and span else None,
        "answers": stats.successes,
        "failures": stats.failures,
        "per_minute": None if completed is None else round(completed * 60 / span, 1),
        "avg_wait_s": None if stats.avg_ms is None else round(stats.avg_ms / 1000, 2),
        "p50_wait_s": None if stats.p50_ms is None else round(stats.p50_ms / 1000, 2),
        "p99_wait_s": None if stats.p99_ms is None else round(stats.p99_ms / 1000, 2),
        "seed_completed": SEED_SYNC_ORDERS,
    }
    print(f"  {sync_line(figures)}", flush=True)
    return figures


def sync_line(sync: dict[str, Any]) -> str:
    return (
        f"sync (POST /orders/sync): {fmt_num(sync['completed'])} orders completed in "
        f"{fmt_num(sync['measured_span_s'], 1, 's')} by {sync['users']} clients "
        f"({fmt_num(sync['per_minute'], 1)}/min; {fmt_num(sync['declined'])} declined), "
        f"average wait {fmt_num(sync['avg_wait_s'], 2, 's')} (the original system: "
        f"{SEED_SYNC_ORDERS} in 60 s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline_figures", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--seconds", type=int, default=20, help="per acceptance step")
    parser.add_argument("--sync-users", type=int, default=20)
    parser.add_argument("--sync-seconds", type=int, default=60)
    parser.add_argument("--out", type=Path, default=None, help="default results/")
    args = parser.parse_args(argv)

    os.environ.update(platform_env())
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = (args.out or config.results_dir()) / f"pipeline-figures-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    env_name = f"figures{os.getpid()}"
    report: dict[str, Any] = {
        "machine": machine.machine_info(),
        "load_average_at_start": os.getloadavg(),
        "api": "private copy of the order API: gunicorn, API_WORKERS/API_THREADS as the "
        "pipeline's, PAYMENT_CONCURRENCY=1 per worker, PAYMENT_LATENCY_SECONDS="
        + os.environ.get("PAYMENT_LATENCY_SECONDS", "3.0"),
    }
    started = time.monotonic()
    res = provision(env_name)
    try:
        with private_api(res, out / "api.log") as url:
            report["async_acceptance"] = async_acceptance(url, args.users, args.seconds, out)
            report["sync"] = sync_completed(
                url, res.settings, args.sync_users, args.sync_seconds, out
            )
    finally:
        teardown(res)
    report["wall_time_s"] = round(time.monotonic() - started, 1)

    path = out.parent / f"pipeline-figures-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print("\nasync acceptance (POST /orders/async, closed loop):")
    for step in report["async_acceptance"]:
        print(
            f"  {step['users']:>3} clients: {fmt_num(step['rps'], 1):>7} req/s"
            f"  p50 {fmt_num(step['p50_ms'], 0, 'ms')}  p99 {fmt_num(step['p99_ms'], 0, 'ms')}"
            f"  ({step['requests']} requests, {step['failures']} failed)"
        )
    print(sync_line(report["sync"]))
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
