"""The payment gateway misbehaves: transient errors and declines, then a dead-letter redrive."""

from __future__ import annotations

from flashsale.settings import LOCAL_DECLINE_CUSTOMER_ID
from flashsale_chaos.model import Check, ScenarioResult, all_of
from flashsale_chaos.report import say
from flashsale_chaos.scenarios.common import (
    Context,
    Scenario,
    accepted_ids,
    answers_check,
    new_products,
    restart_processor,
    restore_processor,
    since_now,
)
from flashsale_chaos.traffic import OrderSpec, place_all
from flashsale_kit.logs import PROCESSED, RETRIED, ProcessorLog, per_order
from flashsale_kit.polling import poll

ERROR_RATE = "0.3"
DECLINE_RATE = "0.2"
#: Retries back off 2, 4, 8, 16 s before the fifth receive dead-letters a message.
RETRY_WAIT = 120.0


def faults(ctx: Context) -> ScenarioResult:
    """ECS orders against a gateway failing 30% and declining 20% of payments; Lambda orders
    with the local "test card" customer, always declined. Transient errors are retried (then
    dead-lettered), declines fail the order and give its stock back."""
    name = "gateway-faults"
    since, log = since_now(), ProcessorLog(ctx.stack.log_path("processor"))
    products = new_products(ctx, name, [5_000, 5_000])
    pids = list(products)
    restart_processor(ctx, PAYMENT_ERROR_RATE=ERROR_RATE, PAYMENT_DECLINE_RATE=DECLINE_RATE)
    mark = log.mark()
    try:
        ecs = [OrderSpec("ecs", pids[i % 2], quantity=1 + i % 3) for i in range(ctx.orders)]
        test_cards = max(3, ctx.orders // 6)
        lam = [
            OrderSpec(
                "lambda",
                pids[i % 2],
                quantity=2,
                customer_id=LOCAL_DECLINE_CUSTOMER_ID if i % 2 == 0 else 4242,
            )
            for i in range(test_cards * 2)
        ]
        answers = place_all(ctx.api, ecs + lam)
        accepted = accepted_ids(answers)
        outcome = ctx.auditor.audit(
            name,
            accepted,
            products,
            since,
            ctx.settle_timeout + RETRY_WAIT,
            [answers_check(answers)],
        )
    finally:
        restore_processor(ctx)
    entries = log.entries(mark)
    retried = per_order((e for e in entries if e.get("msg") == RETRIED), accepted)
    ecs_ids = {a.order_id for a in answers if a.accepted and a.route == "ecs"}
    card_ids = {
        a.order_id
        for a in answers
        if a.accepted and a.request["customer_id"] == LOCAL_DECLINE_CUSTOMER_ID
    }
    rows = ctx.auditor.tables.orders(accepted)
    declined = [oid for oid, row in rows.items() if row.status == "failed"]
    cards_failed = [oid for oid in card_ids if rows.get(oid) and rows[oid].status == "failed"]
    processed = per_order((e for e in entries if e.get("msg") == PROCESSED), ecs_ids)
    outcome.checks += [
        Check(
            "gateway errors were retried",
            bool(retried),
            f"{sum(len(v) for v in retried.values())} retry(ies) over {len(retried)} order(s)",
        ),
        Check(
            "declines failed their orders (stock back: see stock conserved)",
            bool(declined),
            f"{len(declined)} failed, of which {len(cards_failed)}/{len(card_ids)} test-card "
            "orders on the Lambda",
        ),
        all_of("every test-card order was declined", cards_failed, card_ids),
        Check(
            "each ECS order settled by one message",
            all(len(lines) == 1 for lines in processed.values()),
            f"{len(processed)} order(s) settled",
        ),
    ]
    return outcome


def redrive(ctx: Context) -> ScenarioResult:
    """A gateway that fails every payment sends orders to the DLQ after their retries; with it
    healthy again, `make redrive` (order_processor redrive) moves them back and they complete."""
    name = "redrive"
    since = since_now()
    products = new_products(ctx, name, [1_000])
    count = max(3, min(8, ctx.orders // 6))
    restart_processor(ctx, PAYMENT_ERROR_RATE="1", PAYMENT_LATENCY_SECONDS="0.2")
    try:
        answers = place_all(ctx.api, [OrderSpec("ecs", next(iter(products)))] * count)
        accepted = accepted_ids(answers)
        say(f"{name}: waiting for {len(accepted)} order(s) to be dead-lettered")
        dlq_name = f"{ctx.stack.settings.env_name}-order-dlq"
        dead = poll(
            lambda: set(accepted) <= set(ctx.auditor.tables.dead_letters()) or None,
            timeout=ctx.settle_timeout,
            interval=5,
        )
        dead_before = {
            oid for oid, q in ctx.auditor.tables.dead_letters().items() if q == dlq_name
        } & set(accepted)
    finally:
        restore_processor(ctx)
    say(f"{name}: {len(dead_before)} in the DLQ; make redrive")
    output = ctx.stack.run_module("order_processor", "redrive", "--queue", "order")
    outcome = ctx.auditor.audit(name, accepted, products, since, ctx.settle_timeout)
    left = set(ctx.auditor.tables.dead_letters()) & set(accepted)
    outcome.checks += [
        answers_check(answers),
        Check(
            "every order reached the DLQ while the gateway failed",
            bool(dead) and len(dead_before) == len(accepted),
            f"{len(dead_before)}/{len(accepted)}",
        ),
        Check(
            "redrive moved them back", not left, output.strip().splitlines()[-1] if output else ""
        ),
        Check(
            "redriven orders completed",
            outcome.completed == len(accepted),
            f"{outcome.completed}/{len(accepted)}",
        ),
    ]
    return outcome


SCENARIOS = [
    Scenario("gateway-faults", "gateway errors (30%) and declines (20%, test cards)", faults, 2.0),
    Scenario("redrive", "every payment fails -> DLQ; gateway healthy; make redrive", redrive, 2.5),
]
