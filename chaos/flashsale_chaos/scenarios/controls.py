"""Negative controls: faults the audit must catch. Each is expected to FAIL its audit; an audit
never seen failing proves nothing. Not part of the default run: `make chaos
SCENARIOS=no-idempotency-key`. The control then refunds what it charged twice (as a merchant
would) and audits again, so the stack's own `make audit` stays clean afterwards.
"""

from __future__ import annotations

from flashsale.adapters.dynamodb import DynamoDbPaymentLedger
from flashsale.events import encode
from flashsale_chaos.model import Check, ScenarioResult
from flashsale_chaos.money import extra_charges
from flashsale_chaos.report import say
from flashsale_chaos.scenarios.common import (
    Context,
    Scenario,
    accepted_ids,
    new_products,
    restart_processor,
    restore_processor,
    send_to_queue,
    since_now,
)
from flashsale_chaos.traffic import OrderSpec, place_all
from flashsale_kit.events import order_placed, publish

MONEY_CHECK = "charges match order status"


def no_idempotency_key(ctx: Context) -> ScenarioResult:
    """The processor charges without an idempotency key (PAYMENT_IDEMPOTENCY_KEYS=false, refused
    outside local) while every ECS order's message is delivered three times at once: copies that
    reach the gateway together really charge again. The audit must FAIL and name them."""
    name = "no-idempotency-key"
    since = since_now()
    products = new_products(ctx, name, [1_000])
    pid = next(iter(products))
    env = ctx.stack.settings.env_name
    # a payment slower than the copies' arrival, so they overlap at the gateway
    restart_processor(ctx, PAYMENT_IDEMPOTENCY_KEYS="false", PAYMENT_LATENCY_SECONDS="2")
    try:
        answers = place_all(ctx.api, [OrderSpec("ecs", pid)] * max(4, ctx.orders // 6))
        for answer in answers:
            if answer.accepted:
                event = order_placed(ctx.api.order(answer.order_id))
                publish(ctx.stack, event)
                send_to_queue(ctx, f"{env}-order-queue", encode(event)[0], "ecs")
        outcome = ctx.auditor.audit(
            name, accepted_ids(answers), products, since, ctx.settle_timeout
        )
    finally:
        restore_processor(ctx)
    money = next((c for c in outcome.checks if c.name == MONEY_CHECK), None)
    caught = money is not None and not money.ok and "double charge" in money.detail
    say(f"{name}: the audit {'caught' if caught else 'MISSED'} the double charges")
    outcome.checks.append(
        Check(
            "negative control: the audit names the double charges (this row must FAIL)",
            not caught,
            money.detail if money else "no money check ran",
        )
    )
    outcome.checks.append(
        _refund_and_audit_again(ctx, name, accepted_ids(answers), products, since)
    )
    return outcome


def _refund_and_audit_again(
    ctx: Context, name: str, order_ids: list[str], products: dict[int, int], since: str
) -> Check:
    """Refund every charge the orders should not have; their money check then passes."""
    tables = ctx.auditor.tables
    extra = extra_charges(tables.orders(order_ids), tables.charges(order_ids))
    ledger = DynamoDbPaymentLedger(tables.ddb, tables.settings.payments_table)
    refunded = sum(ledger.refund(c.order_id, c.charge_id) for c in extra)
    again = ctx.auditor.audit(f"{name} (refunded)", order_ids, products, since, ctx.settle_timeout)
    money = next((c for c in again.checks if c.name == MONEY_CHECK), None)
    say(f"{name}: refunded {refunded} of {len(extra)} extra charges")
    return Check(
        "after refunding the extra charges, the charges match order status",
        money is not None and money.ok and refunded == len(extra) > 0,
        f"refunded {refunded} of {len(extra)}; " + (money.detail if money else "no money check"),
    )


CONTROLS = [
    Scenario(
        "no-idempotency-key",
        "negative control: consumers charge without a key; the audit must FAIL",
        no_idempotency_key,
        1.5,
    ),
]
