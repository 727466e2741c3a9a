"""Delivery faults: the same message twice (SNS publish, SQS copy), and Lambda batches in which
some records raise (partial batch failure)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from flashsale.domain.model import OrderItem, Route
from flashsale.events import OrderPlaced, encode
from flashsale_chaos.model import Check, ScenarioResult, all_of
from flashsale_chaos.report import say
from flashsale_chaos.scenarios.common import (
    Context,
    Scenario,
    accepted_ids,
    answers_check,
    new_products,
    queue_counts,
    send_to_queue,
    since_now,
)
from flashsale_chaos.traffic import OrderSpec, place_all
from flashsale_kit.events import order_placed, publish
from flashsale_kit.logs import PROCESSED, LambdaLog, ProcessorLog, per_order
from flashsale_kit.polling import poll

#: Copies of the Lambda's concurrent duplicates wait out the payment queue's visibility timeout
#: (360 s) before they are answered from the idempotency store: they are not waited for.
LAMBDA_LOG_WAIT = 60.0
#: What Powertools' batch processor logs for each record that raised.
RECORD_FAILED = "Record processing exception; skipping this record"


def duplicates(ctx: Context) -> ScenarioResult:
    """Every ECS order's message is delivered three times at once (the API's publish, the same
    event published again, and a copy put straight on the queue); every Lambda order's message
    is delivered again after it completed. Each order is charged once."""
    name = "duplicates"
    since, log = since_now(), ProcessorLog(ctx.stack.log_path("processor"))
    lambda_log = LambdaLog(ctx.stack.client("logs"), f"{ctx.stack.settings.env_name}-payment-fn")
    env = ctx.stack.settings.env_name
    products = new_products(ctx, name, [5_000])
    pid = next(iter(products))
    mark, lambda_mark = log.mark(), lambda_log.mark()
    count = max(4, ctx.orders // 3)
    ecs = place_all(ctx.api, [OrderSpec("ecs", pid)] * count)
    for answer in ecs:  # at once: the copies race the original
        if answer.accepted:
            event = order_placed(ctx.api.order(answer.order_id))
            publish(ctx.stack, event)
            send_to_queue(ctx, f"{env}-order-queue", encode(event)[0], "ecs")
    lam = place_all(ctx.api, [OrderSpec("lambda", pid)] * (count // 2))
    lam_ids = accepted_ids(lam)
    ctx.auditor.settle(lam_ids, ctx.settle_timeout)
    say(f"{name}: delivering {len(lam_ids)} completed Lambda order(s) again")
    for order_id in lam_ids:
        event = order_placed(ctx.api.order(order_id))
        publish(ctx.stack, event)
        send_to_queue(ctx, f"{env}-payment-queue", encode(event)[0], "lambda")
    answers = ecs + lam
    accepted = accepted_ids(answers)
    outcome = ctx.auditor.audit(
        name, accepted, products, since, ctx.settle_timeout, [answers_check(answers)]
    )
    ecs_ids = accepted_ids(ecs)
    handled = poll(
        lambda: (
            (h := per_order(log.entries(mark, PROCESSED), ecs_ids))
            and all(len(h.get(oid, [])) >= 3 for oid in ecs_ids)
            and h
        ),
        timeout=ctx.settle_timeout,
        interval=1,
    ) or per_order(log.entries(mark, PROCESSED), ecs_ids)
    copies = sum(len(lines) for lines in handled.values())
    reported = sum(1 for lines in handled.values() for e in lines if e.get("duplicate"))
    lam_handled = poll(
        lambda: (
            (h := per_order(lambda_log.entries(lambda_mark, PROCESSED), lam_ids))
            and all(len(h.get(oid, [])) >= 3 for oid in lam_ids)
            and h
        ),
        timeout=LAMBDA_LOG_WAIT,
        interval=2,
    ) or per_order(lambda_log.entries(lambda_mark, PROCESSED), lam_ids)
    replays = sum(
        1 for lines in lam_handled.values() for e in lines if e.get("outcome", {}).get("duplicate")
    )
    outcome.checks += [
        Check(
            "every ECS copy handled, the extra ones as duplicates",
            copies == 3 * len(ecs_ids) and reported == 2 * len(ecs_ids),
            f"{copies} deliveries of {len(ecs_ids)} order(s), {reported} reported duplicate",
        ),
        Check(
            "Lambda redeliveries answered as duplicates",
            replays == 2 * len(lam_ids),
            f"{replays}/{2 * len(lam_ids)} replayed from the idempotency store",
        ),
    ]
    return outcome


def partial_batch(ctx: Context) -> ScenarioResult:
    """Lambda batches mixing real orders with records that raise (a body that is not an event,
    an event for an order that does not exist): only the raising records are reported back for
    a retry; the real orders complete, each handled once."""
    name = "payment-fn-partial"
    since = since_now()
    lambda_log = LambdaLog(ctx.stack.client("logs"), f"{ctx.stack.settings.env_name}-payment-fn")
    queue = f"{ctx.stack.settings.env_name}-payment-queue"
    products = new_products(ctx, name, [5_000])
    pid = next(iter(products))
    mark = lambda_log.mark()
    before = queue_counts(ctx, queue)
    poison = max(2, ctx.orders // 10)
    real = max(6, ctx.orders // 3)
    marker = uuid.uuid4().hex[:8]
    answers = []
    for index in range(real):  # interleaved, so batches mix good and bad records
        answers += place_all(ctx.api, [OrderSpec("lambda", pid)])
        if index < poison:
            unknown = OrderPlaced(
                order_id=f"chaos-{marker}-{index}",
                customer_id=1,
                items=(OrderItem(pid, 1, Decimal("5.00")),),
                total=Decimal("5.00"),
                route=Route.LAMBDA,
            )
            publish(ctx.stack, unknown)
            body = json.dumps({"chaos": "poison", "marker": marker, "n": index})
            send_to_queue(ctx, queue, body, "lambda")
    accepted = accepted_ids(answers)
    outcome = ctx.auditor.audit(
        name, accepted, products, since, ctx.settle_timeout, [answers_check(answers)]
    )
    handled = (
        poll(
            lambda: (
                (h := per_order(lambda_log.entries(mark, PROCESSED), accepted))
                and len(h) == len(accepted)
                and h
            ),
            timeout=LAMBDA_LOG_WAIT,
            interval=2,
        )
        or {}
    )
    once = [oid for oid in accepted if len(handled.get(oid, [])) == 1]
    mixed, failed_records = _mixed_batches(lambda_log.entries(mark), set(accepted))
    depth = queue_counts(ctx, queue)
    held_back = depth.get("ApproximateNumberOfMessagesNotVisible", 0) - before.get(
        "ApproximateNumberOfMessagesNotVisible", 0
    )
    outcome.checks += [
        all_of("real orders handled once each", once, accepted),
        Check(
            "only the raising records kept for a retry",
            held_back == 2 * poison and depth.get("ApproximateNumberOfMessages", 0) == 0,
            f"{held_back} record(s) in flight for {2 * poison} raising ones "
            f"(visible: {depth.get('ApproximateNumberOfMessages', 0)}); "
            f"{failed_records} record failure(s) logged",
        ),
        Check(
            "batches mixed paid and raising records",
            mixed > 0,
            f"{mixed} invocation(s) reported failures beside paid orders",
        ),
    ]
    return outcome


def _mixed_batches(entries: list[dict], real: set[str]) -> tuple[int, int]:
    """(invocations with both a paid order and a failed record, failed records)."""
    paid: set[str] = set()
    failing: dict[str, int] = {}
    for entry in entries:
        invocation = entry.get("function_request_id")
        if entry.get("message") == PROCESSED and entry.get("order_id") in real:
            paid.add(invocation)
        elif entry.get("message") == RECORD_FAILED:
            failing[invocation] = failing.get(invocation, 0) + 1
    return len(paid & set(failing)), sum(failing.values())


SCENARIOS = [
    Scenario("duplicates", "the same message delivered 3x (SNS + SQS), ECS and Lambda", duplicates),
    Scenario(
        "payment-fn-partial",
        "Lambda batches with raising records: partial batch failure",
        partial_batch,
        1.5,
    ),
]
