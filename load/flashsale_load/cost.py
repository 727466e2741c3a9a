"""`python -m flashsale_load.cost`: the ECS-vs-Lambda monthly cost table, break-even, chart.

Every input comes from one file, load/pricing.toml (or --pricing PATH). The model:

- ECS Fargate: tasks x (vCPU x vCPU-hour + GB x GB-hour) x hours, where tasks is the always-on
  minimum or what the volume needs at the target utilisation; plus SNS and SQS requests.
- Lambda: (invocations - free) x request price + (GB-s - free) x GB-s price, where
  GB-s = orders x memory x payment seconds; plus SNS and SQS requests.

    python -m flashsale_load.cost                 # table on stdout, report + PNG in results/
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flashsale_load import config, plots, scenarios
from flashsale_load.report import table

DEFAULT_PRICING = config.LOAD_DIR / "pricing.toml"


def load_pricing(path: Path = DEFAULT_PRICING) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _billable(used: float, free: float) -> float:
    return max(used - free, 0.0)


def _per_million(requests: float, price: float) -> float:
    return requests / 1_000_000 * price


@dataclass(frozen=True)
class CostRow:
    orders: float
    ecs_tasks: int
    ecs_compute: float
    ecs_messaging: float
    lambda_compute: float
    lambda_requests: float
    lambda_messaging: float
    lambda_no_free_tier: float

    @property
    def ecs_total(self) -> float:
        return self.ecs_compute + self.ecs_messaging

    @property
    def lambda_total(self) -> float:
        return self.lambda_compute + self.lambda_requests + self.lambda_messaging

    @property
    def savings(self) -> float:
        """What Lambda saves over ECS (negative: Lambda costs more)."""
        return self.ecs_total - self.lambda_total


def ecs_tasks(orders: float, p: dict[str, Any]) -> int:
    work, ecs = p["workload"], p["workload"]["ecs"]
    per_task = (
        ecs["payments_per_task"]
        / work["payment_seconds"]
        * work["seconds_per_month"]
        * ecs["target_utilization"]
    )
    return max(int(ecs["min_tasks"]), math.ceil(orders / per_task))


def _sns(orders: float, p: dict[str, Any]) -> float:
    publishes = orders * p["workload"]["shared"]["sns_publishes_per_order"]
    return _per_million(
        _billable(publishes, p["sns"]["free_requests"]), p["sns"]["publish_per_million"]
    )


def _sqs(requests: float, p: dict[str, Any]) -> float:
    return _per_million(
        _billable(requests, p["sqs"]["free_requests"]), p["sqs"]["request_per_million"]
    )


def cost_row(orders: float, p: dict[str, Any]) -> CostRow:
    work, fargate, lam = p["workload"], p["fargate"], p["lambda"]
    ecs, fn = work["ecs"], work["lambda"]
    tasks = ecs_tasks(orders, p)
    task_hour = ecs["task_vcpu"] * fargate["vcpu_hour"] + ecs["task_memory_gb"] * fargate["gb_hour"]
    ecs_sqs = orders * ecs["sqs_requests_per_order"] + tasks * ecs["idle_sqs_requests_per_task"]
    invocations = orders * fn["invocations_per_order"]
    gb_seconds = orders * fn["memory_gb"] * work["payment_seconds"]
    lambda_sqs = orders * fn["sqs_requests_per_order"] + fn["idle_sqs_requests"]
    no_free = _per_million(invocations, lam["request_per_million"]) + gb_seconds * lam["gb_second"]
    return CostRow(
        orders=orders,
        ecs_tasks=tasks,
        ecs_compute=tasks * task_hour * fargate["hours_per_month"],
        ecs_messaging=_sns(orders, p) + _sqs(ecs_sqs, p),
        lambda_compute=_billable(gb_seconds, lam["free_gb_seconds"]) * lam["gb_second"],
        lambda_requests=_per_million(
            _billable(invocations, lam["free_requests"]), lam["request_per_million"]
        ),
        lambda_messaging=_sns(orders, p) + _sqs(lambda_sqs, p),
        lambda_no_free_tier=no_free,
    )


def break_even(p: dict[str, Any], low: float = 1.0, high: float = 1e9) -> float | None:
    """The smallest monthly volume from which Lambda costs more than ECS (bisection on the
    first crossing; None if Lambda stays cheaper up to `high`)."""
    if cost_row(high, p).savings >= 0:
        return None
    # find the first bracket [a, b] with savings(a) >= 0 > savings(b) on a log grid
    grid = [low * (high / low) ** (i / 400) for i in range(401)]
    for a, b in itertools.pairwise(grid):
        if cost_row(a, p).savings >= 0 > cost_row(b, p).savings:
            for _ in range(60):
                mid = (a + b) / 2
                a, b = (mid, b) if cost_row(mid, p).savings >= 0 else (a, mid)
            return b
    return low


def money(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def cost_table(rows: Sequence[CostRow]) -> str:
    header = [
        "monthly orders",
        "ECS tasks",
        "ECS cost",
        "Lambda cost",
        "savings with Lambda",
        "Lambda without free tier",
    ]
    body = [
        [
            f"{row.orders:,.0f}",
            str(row.ecs_tasks),
            money(row.ecs_total),
            money(row.lambda_total),
            f"{money(row.savings)} ({row.savings / row.ecs_total * 100:.1f}%)"
            if row.ecs_total
            else money(row.savings),
            money(row.lambda_no_free_tier),
        ]
        for row in rows
    ]
    return table(header, body)


def assumptions(p: dict[str, Any]) -> list[str]:
    work, ecs, fn = p["workload"], p["workload"]["ecs"], p["workload"]["lambda"]
    fargate, lam = p["fargate"], p["lambda"]
    task_month = (
        ecs["task_vcpu"] * fargate["vcpu_hour"] + ecs["task_memory_gb"] * fargate["gb_hour"]
    ) * fargate["hours_per_month"]
    return [
        f"ECS: Fargate tasks of {ecs['task_vcpu']} vCPU / {ecs['task_memory_gb']} GB at "
        f"${fargate['vcpu_hour']}/vCPU-h and ${fargate['gb_hour']}/GB-h: {money(task_month)} "
        f"per task-month; at least {ecs['min_tasks']}, one per "
        f"{ecs['payments_per_task']} concurrent payments at {ecs['target_utilization']:.0%} "
        "utilisation.",
        f"Lambda: {fn['memory_gb'] * 1024:.0f} MB for {work['payment_seconds']} s per order, "
        f"${lam['request_per_million']}/1M requests, ${lam['gb_second']}/GB-s; free tier "
        f"{lam['free_requests']:,} requests and {lam['free_gb_seconds']:,} GB-s a month.",
        f"SNS ${p['sns']['publish_per_million']}/1M publishes and SQS "
        f"${p['sqs']['request_per_million']}/1M requests, each after 1M free a month; "
        "DynamoDB, the API's own hosting, logs and data transfer are the same for both and left "
        "out.",
    ]


def render(p: dict[str, Any], rows: Sequence[CostRow], even: float | None, chart: str) -> str:
    source = p["source"]
    crossing = (
        f"Lambda becomes the dearer option from about **{even:,.0f} orders a month**."
        if even
        else "Lambda stays the cheaper option over the whole range."
    )
    return (
        "\n\n".join(
            [
                "# ECS Fargate vs Lambda: monthly cost of the order processing",
                cost_table(rows),
                crossing,
                f"![cost]({chart})",
                "## Inputs",
                "\n".join(f"- {line}" for line in assumptions(p)),
                f"Prices: {source['region']}, price list of {source['price_list_date']}. "
                f"{source['note']}",
                "\n".join(f"- {url}" for url in source["urls"]),
            ]
        )
        + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flashsale_load.cost", description=__doc__)
    parser.add_argument("--pricing", type=Path, default=DEFAULT_PRICING)
    parser.add_argument("--out", type=Path, help="output folder (default results/<ts>-cost)")
    args = parser.parse_args(argv)
    p = load_pricing(args.pricing)
    rows = [cost_row(float(volume), p) for volume in p["workload"]["volumes"]]
    even = break_even(p)
    out_dir = args.out or scenarios.run_dir(config.results_dir(), "cost")
    out_dir.mkdir(parents=True, exist_ok=True)
    top = max(float(v) for v in p["workload"]["volumes"]) * 2
    volumes = [10_000 * (top / 10_000) ** (i / 200) for i in range(201)]
    curve = [cost_row(v, p) for v in volumes]
    chart = plots.cost_chart(
        volumes,
        {"ECS Fargate": [r.ecs_total for r in curve], "Lambda": [r.lambda_total for r in curve]},
        even,
        out_dir / "cost.png",
    )
    text = render(p, rows, even, chart.name)
    (out_dir / "cost.md").write_text(text)
    (out_dir / "cost.json").write_text(
        json.dumps(
            {
                "rows": [
                    {**asdict(r), "ecs_total": r.ecs_total, "lambda_total": r.lambda_total}
                    for r in rows
                ],
                "break_even_orders": even,
                "source": p["source"],
            },
            indent=2,
        )
    )
    print(cost_table(rows))
    print(f"\nbreak-even: {f'{even:,.0f} orders/month' if even else 'none in range'}")
    print(f"report: {out_dir / 'cost.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
