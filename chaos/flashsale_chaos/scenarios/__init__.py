"""Every scenario, in the order `make chaos` runs them (LocalStack's restart last: it wipes
the queues, and with them whatever earlier scenarios left in flight), and the negative controls,
run only by name."""

from __future__ import annotations

from flashsale_chaos.scenarios import (
    controls,
    deliveries,
    flash_sale,
    gateway,
    localstack,
    processor,
)
from flashsale_chaos.scenarios.common import Context, Scenario

ALL: list[Scenario] = [
    *flash_sale.SCENARIOS,
    *deliveries.SCENARIOS,
    *processor.SCENARIOS,
    *gateway.SCENARIOS,
    *localstack.SCENARIOS,
]
BY_NAME: dict[str, Scenario] = {scenario.name: scenario for scenario in [*ALL, *controls.CONTROLS]}

__all__ = ["ALL", "BY_NAME", "Context", "Scenario"]
