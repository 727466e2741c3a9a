"""Two cheap fault-injection scenarios of `make chaos` against the stack the suite uses:
duplicate deliveries, and the processor killed mid-payment. Each leaves the stack as it found it
(the killed processor is started again); the audit must pass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flashsale_chaos import report
from flashsale_chaos.scenarios import BY_NAME, Context
from flashsale_kit.running import RunningStack

ORDERS = 12


@pytest.fixture(scope="module")
def chaos(local_aws: dict[str, str]) -> Iterator[Context]:
    stack = RunningStack()
    stack.require_ready()
    ctx = Context.connect(stack, orders=ORDERS, settle_timeout=120)
    yield ctx
    ctx.api.close()
    if stack.process("processor") is None:  # a failed scenario must not leave it down
        stack.start("processor")


@pytest.mark.timeout(420)
@pytest.mark.parametrize("scenario", ["duplicates", "processor-sigkill"])
def test_scenario_passes_its_audit(chaos: Context, scenario: str) -> None:
    outcome = BY_NAME[scenario].run(chaos)
    assert outcome.passed, f"\n{report.table([outcome])}\n{report.details([outcome])}"
    assert outcome.accepted >= 3 and outcome.max_charges == 1
    assert chaos.stack.process("processor") is not None, "the processor was not restored"
    assert chaos.stack.api_ready()
