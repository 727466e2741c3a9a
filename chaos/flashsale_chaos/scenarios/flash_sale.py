"""A flash sale on one product: many concurrent buyers, little stock, no oversell."""

from __future__ import annotations

from flashsale_chaos.model import Check, ScenarioResult
from flashsale_chaos.scenarios.common import (
    Context,
    Scenario,
    accepted_ids,
    answers_check,
    new_products,
    since_now,
)
from flashsale_chaos.traffic import OrderSpec, place_all


def flash_sale(ctx: Context) -> ScenarioResult:
    """N buyers of one unit each race for S < N units on both async routes at once: exactly S
    are accepted, the rest get 409 out_of_stock, and nothing is oversold."""
    name = "flash-sale"
    since = since_now()
    buyers = max(20, ctx.orders * 2)
    stock = max(5, buyers // 5)
    products = new_products(ctx, name, [stock])
    pid = next(iter(products))
    answers = place_all(
        ctx.api,
        [OrderSpec("ecs" if i % 2 else "lambda", pid, customer_id=1000 + i) for i in range(buyers)],
        workers=32,
    )
    accepted = accepted_ids(answers)
    sold_out = [
        a
        for a in answers
        if a.status_code == 409 and a.body.get("error", {}).get("code") == "out_of_stock"
    ]
    outcome = ctx.auditor.audit(
        name, accepted, products, since, ctx.settle_timeout, [answers_check(answers, {202, 409})]
    )
    left = ctx.auditor.tables.stock(products)[pid]
    outcome.checks += [
        Check(
            "exactly the stock was sold",
            len(accepted) == stock and len(sold_out) == buyers - stock,
            f"{buyers} buyers, {stock} units: {len(accepted)} accepted, {len(sold_out)} sold out",
        ),
        Check("no oversell", left >= 0 and len(accepted) <= stock, f"{left} unit(s) left"),
    ]
    return outcome


SCENARIOS = [
    Scenario("flash-sale", "concurrent buyers of one product with little stock", flash_sale, 1.0)
]
