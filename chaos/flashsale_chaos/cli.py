"""`python -m flashsale_chaos [SCENARIO ...]`: run fault-injection scenarios against the running
stack, print the audit table, exit 1 when any audit fails (2 when the stack is not up)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from flashsale_chaos import report
from flashsale_chaos.model import ScenarioResult
from flashsale_chaos.report import say
from flashsale_chaos.scenarios import ALL, BY_NAME, Context
from flashsale_chaos.scenarios.common import error_result
from flashsale_kit.running import RunningStack, StackError


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="flashsale-chaos", description=__doc__)
    root.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help=f"default: all, in this order: {' '.join(s.name for s in ALL)}",
    )
    root.add_argument("--orders", type=int, default=60, help="orders per scenario (bounded load)")
    root.add_argument(
        "--settle-timeout", type=float, default=240.0, help="seconds an audit waits for orders"
    )
    root.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        for scenario in BY_NAME.values():
            print(f"{scenario.name:<22} ~{scenario.minutes:.1f} min  {scenario.summary}")
        return 0
    unknown = [name for name in args.scenarios if name not in BY_NAME]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    if not 1 <= args.orders <= 300:
        print("--orders must be within 1..300 (a bounded load)", file=sys.stderr)
        return 2
    stack = RunningStack()
    try:
        stack.require_ready()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    chosen = [BY_NAME[name] for name in args.scenarios] or ALL
    ctx = Context.connect(stack, args.orders, args.settle_timeout)
    outcomes: list[ScenarioResult] = []
    try:
        for scenario in chosen:
            started = time.monotonic()
            say(f"{scenario.name}: {scenario.summary}")
            try:
                outcome = scenario.run(ctx)
            except Exception as exc:  # a broken scenario is reported, the others still run
                outcome = error_result(scenario.name, exc)
            say(f"{scenario.name}: {outcome.verdict} in {time.monotonic() - started:.0f} s")
            outcomes.append(outcome)
            if not stack.api_ready():
                say("the stack is not ready after this scenario: `localaws up` to repair it")
                stack.localaws("up")
    finally:
        ctx.api.close()
    print(report.table(outcomes))
    print()
    print(report.details(outcomes))
    return 0 if all(outcome.passed for outcome in outcomes) else 1
