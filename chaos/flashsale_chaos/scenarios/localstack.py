"""LocalStack restarted under load: SNS, SQS and the Lambda vanish with their state.

While it is down the API must answer 503 (not 500, not hang). `localaws up` brings it back and
redeploys the stacks (its queues come back empty). Orders accepted before the outage whose
message was lost (queued, or in a Lambda that was killed) are still `pending`/`processing` on
moto, which stayed up: the processor's sweeper re-publishes them, and they complete.
"""

from __future__ import annotations

import time

from flashsale_chaos.model import Check, ScenarioResult
from flashsale_chaos.report import say
from flashsale_chaos.scenarios.common import (
    Context,
    Scenario,
    accepted_ids,
    new_products,
    since_now,
)
from flashsale_chaos.traffic import OrderSpec, SteadyLoad
from flashsale_kit.api import Answer
from flashsale_kit.logs import REPUBLISHED, ProcessorLog, per_order
from flashsale_kit.polling import poll
from flashsale_kit.tables import TERMINAL

RATE = 2.5  # orders per second: ~180 over warm-up, outage, redeploy and recovery
MAX_ORDERS = 300
#: Longer than the payment Lambda's timeout (60 s, minus the redeploy): a Lambda killed mid-payment
#: leaves an in-progress idempotency record that expires after it; the copy comes after that.
OUTAGE_SECONDS = 45.0
WARM_UP_ORDERS = 10
AFTER_RECOVERY_ORDERS = 10
#: The sweeper runs every 30 s inside the processor.
SWEEP_WAIT = 90.0


def _counted(load: SteadyLoad) -> int:
    return len(load.answers)


def restart(ctx: Context) -> ScenarioResult:
    name = "localstack-restart"
    since, log = since_now(), ProcessorLog(ctx.stack.log_path("processor"))
    products = new_products(ctx, name, [10_000, 10_000])
    pids = list(products)
    mark = log.mark()
    load = SteadyLoad(
        ctx.api,
        lambda i: OrderSpec("ecs" if i % 2 else "lambda", pids[i % 2]),
        rate=RATE,
        limit=MAX_ORDERS,
    ).start()
    try:
        poll(lambda: _counted(load) >= WARM_UP_ORDERS, timeout=60)
        down_at = time.monotonic()
        say(f"{name}: stopping LocalStack under load")
        how = ctx.stack.stop("localstack")
        say(f"{name}: LocalStack {how} after {time.monotonic() - down_at:.1f} s")
        poll(lambda: time.monotonic() - down_at >= OUTAGE_SECONDS, timeout=OUTAGE_SECONDS + 5)
        say(f"{name}: localaws up (restart LocalStack, redeploy the stacks)")
        up_started = time.monotonic()
        output = ctx.stack.localaws("up")
        up_at = time.monotonic()
        ctx.stack.forget_clients()
        recovered = poll(
            lambda: (
                sum(1 for a in load.answers if a.sent_at > up_at and a.accepted)
                >= AFTER_RECOVERY_ORDERS
            ),
            timeout=120,
            interval=0.5,
        )
    finally:
        answers = load.stop()
    during = [a for a in answers if down_at <= a.sent_at < up_at]
    after = [a for a in answers if a.sent_at >= up_at]
    accepted = accepted_ids(answers)
    outcome = ctx.auditor.audit(name, accepted, products, since, ctx.settle_timeout + SWEEP_WAIT)
    republished = per_order(log.entries(mark, REPUBLISHED), accepted)
    rows = ctx.auditor.tables.orders(republished)
    lost_before = [
        a.order_id
        for a in answers
        if a.accepted and a.sent_at < down_at and a.order_id in republished
    ]
    outcome.checks += [
        _outage_answers(during),
        Check(
            "no request hung",
            all(a.status_code is not None for a in answers),
            f"slowest answer in the outage: {max((a.seconds for a in during), default=0):.1f} s",
        ),
        _redeployed(ctx, output, up_at - up_started),
        Check(
            "orders accepted again after recovery",
            bool(recovered),
            f"{sum(1 for a in after if a.accepted)} of {len(after)} accepted after `up`",
        ),
        Check(
            "orders re-published by the sweeper completed",
            all(rows[oid].status in TERMINAL for oid in republished if oid in rows),
            f"{len(republished)} order(s) re-published ({len(lost_before)} accepted before the "
            "outage)",
        ),
    ]
    return outcome


def _outage_answers(during: list[Answer]) -> Check:
    codes: dict[str, int] = {}
    for answer in during:
        key = str(answer.status_code) if answer.status_code is not None else "no answer"
        codes[key] = codes.get(key, 0) + 1
    bad = {code: n for code, n in codes.items() if code not in {"202", "503"}}
    return Check(
        "503 while LocalStack was down (not 500, not a hang)",
        bool(codes.get("503")) and not bad,
        ", ".join(f"{n}x {code}" for code, n in sorted(codes.items())) or "no request sent",
    )


def _redeployed(ctx: Context, output: str, seconds: float) -> Check:
    settings = ctx.stack.settings
    env = settings.env_name
    missing = []
    try:
        ctx.stack.client("sns").get_topic_attributes(TopicArn=settings.order_topic_arn)
    except Exception:
        missing.append("topic")
    for queue in ("order-queue", "order-dlq", "payment-queue", "payment-dlq"):
        if ctx.stack.queue_url(f"{env}-{queue}") is None:
            missing.append(queue)
    try:
        mappings = ctx.stack.client("lambda").list_event_source_mappings(
            FunctionName=f"{env}-payment-fn"
        )["EventSourceMappings"]
        if not mappings:
            missing.append("payment-fn trigger")
    except Exception:
        missing.append("payment-fn")
    deployed = "deploy: done" in output
    return Check(
        "`localaws up` redeployed the stacks",
        deployed and not missing,
        f"in {seconds:.0f} s" + (f"; missing: {', '.join(missing)}" if missing else ""),
    )


SCENARIOS = [
    Scenario(
        "localstack-restart",
        "LocalStack stopped for 45 s under load, `localaws up`, sweeper recovery",
        restart,
        4.0,
    )
]
