"""The ECS processor dies mid-payment (SIGKILL) or is stopped gracefully (SIGTERM) under load."""

from __future__ import annotations

import signal

from flashsale_chaos.model import Check, ScenarioResult, all_of
from flashsale_chaos.report import say
from flashsale_chaos.scenarios.common import (
    Context,
    Scenario,
    accepted_ids,
    answers_check,
    new_products,
    processing_now,
    restart_processor,
    since_now,
    specs,
    wait_until_paying,
)
from flashsale_chaos.traffic import place_all
from flashsale_kit.logs import PROCESSED, STOPPED, ProcessorLog, per_order

#: The processor's visibility timeout is max(30 s, 10 x latency): redelivery comes after it.
REDELIVERY_WAIT = 120.0


def sigkill(ctx: Context) -> ScenarioResult:
    """Kill the processor with payments in flight, start it again: their messages come back
    after the visibility timeout and each order is finished, and charged, once."""
    name = "processor-sigkill"
    since, log = since_now(), ProcessorLog(ctx.stack.log_path("processor"))
    products = new_products(ctx, name, [10_000])
    answers = place_all(ctx.api, specs(list(products), min(ctx.orders, 40), ["ecs"]))
    accepted = accepted_ids(answers)
    wait_until_paying(ctx, accepted, at_least=3)
    record = ctx.stack.kill("processor", signal.SIGKILL)
    mark = log.mark()
    paying = processing_now(ctx, accepted)  # what the dead process left mid-payment
    say(f"{name}: SIGKILL to pid {record.pid} with {len(paying)} payment(s) in flight; restarting")
    ctx.stack.start("processor")
    outcome = ctx.auditor.audit(
        name,
        accepted,
        products,
        since,
        ctx.settle_timeout + REDELIVERY_WAIT,
        [answers_check(answers)],
    )
    handled = per_order(log.entries(mark, PROCESSED), paying)
    redelivered = [
        oid for oid in paying if any(e.get("receive_count", 1) > 1 for e in handled.get(oid, []))
    ]
    rows = ctx.auditor.tables.orders(paying)
    finished = [
        oid for oid in paying if rows.get(oid) and rows[oid].status in {"completed", "failed"}
    ]
    outcome.checks += [
        all_of(
            "in-flight orders redelivered to the new processor",
            redelivered,
            paying,
            "handled again with receive_count > 1",
        ),
        all_of("in-flight orders finished", finished, paying),
    ]
    return outcome


def sigterm(ctx: Context) -> ScenarioResult:
    """SIGTERM the processor while it pays (`localaws restart processor`): in-flight payments
    finish and are deleted before it exits; no order is handled twice."""
    name = "processor-sigterm"
    since, log = since_now(), ProcessorLog(ctx.stack.log_path("processor"))
    products = new_products(ctx, name, [10_000])
    mark = log.mark()
    answers = place_all(ctx.api, specs(list(products), min(ctx.orders, 40), ["ecs"]))
    accepted = accepted_ids(answers)
    paying = wait_until_paying(ctx, accepted, at_least=3)
    say(f"{name}: SIGTERM with {len(paying)} payment(s) in flight, then a new processor")
    how = restart_processor(ctx)
    outcome = ctx.auditor.audit(
        name, accepted, products, since, ctx.settle_timeout, [answers_check(answers)]
    )
    entries = log.entries(mark)
    stop_at = next((i for i, e in enumerate(entries) if e.get("msg") == STOPPED), None)
    stopped = entries[stop_at] if stop_at is not None else {}
    before_stop = per_order(
        (e for e in entries[: stop_at or 0] if e.get("msg") == PROCESSED), accepted
    )
    handled = per_order((e for e in entries if e.get("msg") == PROCESSED), accepted)
    twice = sorted(oid for oid, lines in handled.items() if len(lines) > 1)
    duplicates = sorted(
        oid for oid, lines in handled.items() if any(e.get("duplicate") for e in lines)
    )
    released = sum(
        1 for lines in handled.values() if lines and lines[0].get("receive_count", 1) > 1
    )
    drained_in_time = [oid for oid in paying if oid in before_stop]
    outcome.checks += [
        Check(
            "stopped gracefully",
            how == "stopped" and bool(stopped) and stopped.get("drained") is True,
            f"exit on SIGTERM: {how}; 'processor stopped' logged, drained={stopped.get('drained')}",
        ),
        all_of(
            "in-flight payments finished before the exit",
            drained_in_time,
            paying,
            "settled by the stopping processor",
        ),
        Check(
            "nothing redelivered needlessly",
            not twice and not duplicates,
            f"{len(twice)} order(s) handled twice, {len(duplicates)} duplicate(s); "
            f"{released} message(s) handed back unprocessed at the stop",
        ),
    ]
    return outcome


SCENARIOS = [
    Scenario("processor-sigkill", "SIGKILL the processor mid-payment, restart it", sigkill, 2.0),
    Scenario("processor-sigterm", "SIGTERM (graceful stop) the processor under load", sigterm, 1.0),
]
