"""`python -m flashsale_load.cost`: the ECS-vs-Lambda monthly cost table, break-even, chart.

Prices and the workload assumptions come from load/pricing.toml (or --pricing PATH), each with
its source. Two models side by side:

- the original study's: one order per Lambda invocation billed for the whole 3 s payment; ECS
  tasks of the file's size paying `payments_per_task` orders at a time;
- the deployed configuration's (deployment.py): Lambda billed for the measured duration of one
  invocation, which pays a batch of `BatchSize` orders `PaymentConcurrency` at a time, at the
  function's memory; ECS tasks of the processor stack's vCPU and memory, each sustaining the
  orders/s one task was measured at. Without a measured run its figures print n/a.

Both: ECS = tasks x (vCPU x vCPU-hour + GB x GB-hour) x hours (tasks: the minimum or what the
volume needs at the target utilisation) + SNS and SQS requests; Lambda = (invocations - free) x
request price + (GB-s - free) x GB-s price + SNS and SQS requests.

    python -m flashsale_load.cost                       # the study's model; deployed: n/a
    python -m flashsale_load.cost --stack local --compare-run results/<ts>-compare
    python -m flashsale_load.cost --invocation-ms 3100 --task-orders-per-s 3.2
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flashsale_load import config, plots, scenarios
from flashsale_load.deployment import Deployment, Input, read_deployment
from flashsale_load.report import Column, fmt_num, rows_table

DEFAULT_PRICING = config.LOAD_DIR / "pricing.toml"


def load_pricing(path: Path = DEFAULT_PRICING) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _billable(used: float, free: float) -> float:
    return max(used - free, 0.0)


def _per_million(requests: float, price: float) -> float:
    return requests / 1_000_000 * price


@dataclass(frozen=True)
class Model:
    """What processing one order takes on each option: the inputs of the monthly totals."""

    name: str
    task_vcpu: float
    task_memory_gb: float
    min_tasks: int
    #: orders/s one task sustains when busy
    task_orders_per_s: float
    lambda_memory_gb: float
    invocations_per_order: float
    #: billed seconds of one invocation
    invocation_s: float

    @property
    def gb_seconds_per_order(self) -> float:
        return self.lambda_memory_gb * self.invocation_s * self.invocations_per_order


def study_model(p: dict[str, Any]) -> Model:
    """The original study's model: one order per invocation, billed for the whole payment."""
    work, ecs, fn = p["workload"], p["workload"]["ecs"], p["workload"]["lambda"]
    return Model(
        name="original study",
        task_vcpu=ecs["task_vcpu"],
        task_memory_gb=ecs["task_memory_gb"],
        min_tasks=int(ecs["min_tasks"]),
        task_orders_per_s=ecs["payments_per_task"] / work["payment_seconds"],
        lambda_memory_gb=fn["memory_gb"],
        invocations_per_order=fn["invocations_per_order"],
        invocation_s=work["payment_seconds"],
    )


def deployed_model(d: Deployment) -> Model | None:
    """The deployed configuration's model; None while an input is missing (printed n/a)."""
    if d.missing():
        return None

    def value(item: Input) -> float:
        assert item.value is not None
        return item.value

    return Model(
        name="deployed",
        task_vcpu=value(d.task_cpu_units) / 1024,
        task_memory_gb=value(d.task_memory_mib) / 1024,
        min_tasks=int(value(d.min_tasks)),
        task_orders_per_s=value(d.task_orders_per_s),
        lambda_memory_gb=value(d.lambda_memory_mb) / 1024,
        invocations_per_order=1 / value(d.batch_size),
        invocation_s=value(d.invocation_ms) / 1000,
    )


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


def ecs_tasks(orders: float, p: dict[str, Any], model: Model | None = None) -> int:
    m = model or study_model(p)
    work = p["workload"]
    per_task = m.task_orders_per_s * work["seconds_per_month"] * work["ecs"]["target_utilization"]
    return max(m.min_tasks, math.ceil(orders / per_task))


def _sns(orders: float, p: dict[str, Any]) -> float:
    publishes = orders * p["workload"]["shared"]["sns_publishes_per_order"]
    return _per_million(
        _billable(publishes, p["sns"]["free_requests"]), p["sns"]["publish_per_million"]
    )


def _sqs(requests: float, p: dict[str, Any]) -> float:
    return _per_million(
        _billable(requests, p["sqs"]["free_requests"]), p["sqs"]["request_per_million"]
    )


def cost_row(orders: float, p: dict[str, Any], model: Model | None = None) -> CostRow:
    m = model or study_model(p)
    work, fargate, lam = p["workload"], p["fargate"], p["lambda"]
    ecs, fn = work["ecs"], work["lambda"]
    tasks = ecs_tasks(orders, p, m)
    task_hour = m.task_vcpu * fargate["vcpu_hour"] + m.task_memory_gb * fargate["gb_hour"]
    ecs_sqs = orders * ecs["sqs_requests_per_order"] + tasks * ecs["idle_sqs_requests_per_task"]
    invocations = orders * m.invocations_per_order
    gb_seconds = orders * m.gb_seconds_per_order
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


def break_even(
    p: dict[str, Any], model: Model | None = None, low: float = 1.0, high: float = 1e9
) -> float | None:
    """The smallest monthly volume from which Lambda costs more than ECS (bisection on the
    first crossing; None if Lambda stays cheaper up to `high`)."""

    def savings(orders: float) -> float:
        return cost_row(orders, p, model).savings

    if savings(high) >= 0:
        return None
    # find the first bracket [a, b] with savings(a) >= 0 > savings(b) on a log grid
    grid = [low * (high / low) ** (i / 400) for i in range(401)]
    for a, b in itertools.pairwise(grid):
        if savings(a) >= 0 > savings(b):
            for _ in range(60):
                mid = (a + b) / 2
                a, b = (mid, b) if savings(mid) >= 0 else (a, mid)
            return b
    return low


def money(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


#: the study's table: one row per monthly volume
COST_COLUMNS: list[Column] = [
    ("monthly orders", lambda row: f"{row.orders:,.0f}"),
    ("ECS tasks", lambda row: str(row.ecs_tasks)),
    ("ECS cost", lambda row: money(row.ecs_total)),
    ("Lambda cost", lambda row: money(row.lambda_total)),
    (
        "savings with Lambda",
        lambda row: (
            f"{money(row.savings)} ({row.savings / row.ecs_total * 100:.1f}%)"
            if row.ecs_total
            else money(row.savings)
        ),
    ),
    ("Lambda without free tier", lambda row: money(row.lambda_no_free_tier)),
]


def cost_table(rows: Sequence[CostRow]) -> str:
    return rows_table(COST_COLUMNS, rows)


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


def side_by_side(volumes: Sequence[float], p: dict[str, Any], deployed: Model | None) -> str:
    """Monthly totals of both models per volume; the deployed one n/a while unmeasured."""

    def deployed_cell(cell: Callable[[CostRow], str]) -> Callable[[tuple], str]:
        return lambda pair: cell(pair[1]) if pair[1] else "n/a"

    columns: list[Column] = [
        ("monthly orders", lambda pair: f"{pair[0].orders:,.0f}"),
        ("study: ECS", lambda pair: money(pair[0].ecs_total)),
        ("study: Lambda", lambda pair: money(pair[0].lambda_total)),
        ("deployed: ECS tasks", deployed_cell(lambda row: str(row.ecs_tasks))),
        ("deployed: ECS", deployed_cell(lambda row: money(row.ecs_total))),
        ("deployed: Lambda", deployed_cell(lambda row: money(row.lambda_total))),
    ]
    pairs = [(cost_row(v, p), cost_row(v, p, deployed) if deployed else None) for v in volumes]
    return rows_table(columns, pairs)


def crossing(even: float | None, model: Model | None, name: str) -> str:
    if model is None:
        return f"Break-even ({name}): n/a (the model misses a measured input, listed below)."
    if even is None:
        return f"Break-even ({name}): none, Lambda stays the cheaper option over the whole range."
    return (
        f"Break-even ({name}): about **{even:,.0f} orders a month**, from which Lambda is the "
        "dearer option."
    )


def per_order(model: Model | None) -> str:
    if model is None:
        return "n/a"
    return (
        f"{model.gb_seconds_per_order:.3f} GB-s and {model.invocations_per_order:.2f} invocations "
        f"of Lambda, {1 / model.task_orders_per_s:.2f} s of one ECS task"
    )


def deployment_lines(d: Deployment) -> list[str]:
    return [
        f"{name.replace('_', ' ')}: {fmt_num(item.value, 2)} ({item.source})"
        for name, item in d.inputs().items()
    ]


def render(
    p: dict[str, Any],
    rows: Sequence[CostRow],
    d: Deployment,
    models: Sequence[tuple[Model | None, float | None]],
    chart: str,
) -> str:
    (study, study_even), (deployed, deployed_even) = models
    source = p["source"]
    volumes = [row.orders for row in rows]
    parts = [
        "# ECS Fargate vs Lambda: monthly cost of the order processing",
        "## The original study's model",
        "One order per Lambda invocation, billed for the whole 3 s payment; ECS tasks of the "
        "size below, one per `payments_per_task` concurrent payments.",
        cost_table(rows),
        crossing(study_even, study, "original study"),
        "## The deployed configuration beside it",
        "Lambda: one invocation pays a batch of `BatchSize` orders, `PaymentConcurrency` at a "
        "time, billed for the measured duration of an invocation at the function's memory; "
        "ECS: the processor stack's task size, each task paying the orders/s one task was "
        "measured to sustain.",
        side_by_side(volumes, p, deployed),
        crossing(deployed_even, deployed, "deployed"),
        f"Per order: study {per_order(study)}; deployed {per_order(deployed)}.",
        f"![cost]({chart})",
        "## Inputs of the deployed model",
        "\n".join(f"- {line}" for line in deployment_lines(d)),
        "## Inputs of the study's model and the prices",
        "\n".join(f"- {line}" for line in assumptions(p)),
        f"Prices: {source['region']}, price list of {source['price_list_date']}. {source['note']}",
        "\n".join(f"- {url}" for url in source["urls"]),
    ]
    return "\n\n".join(parts) + "\n"


def _clients(stack: str) -> tuple[Any, Any, str]:
    """(cloudformation, logs, env name) of `stack`: local (the running `make up`), aws, none."""
    if stack == "none":
        return None, None, "local"
    import boto3
    from botocore.config import Config

    from flashsale.settings import Settings

    if stack == "local":
        from flashsale_kit.running import apply_stack_env

        apply_stack_env()
    quick = Config(connect_timeout=3, read_timeout=20, retries={"max_attempts": 1})
    session = boto3.session.Session()
    env_name = Settings.from_env().env_name
    return (
        session.client("cloudformation", config=quick),
        session.client("logs", config=quick),
        env_name,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flashsale_load.cost", description=__doc__)
    parser.add_argument("--pricing", type=Path, default=DEFAULT_PRICING)
    parser.add_argument("--out", type=Path, help="output folder (default results/<ts>-cost)")
    parser.add_argument(
        "--stack",
        choices=("none", "local", "aws"),
        default="none",
        help="read the deployed stacks and the Lambda's REPORT logs (none: template defaults)",
    )
    parser.add_argument("--invocation-ms", type=float, help="billed ms of one Lambda invocation")
    parser.add_argument("--lambda-log", type=Path, help="a file of the Lambda's REPORT lines")
    parser.add_argument("--task-orders-per-s", type=float, help="orders/s one ECS task sustained")
    parser.add_argument("--compare-run", type=Path, help="a load-compare run (its async-ecs phase)")
    args = parser.parse_args(argv)
    p = load_pricing(args.pricing)
    cfn, logs, env_name = _clients(args.stack)
    d = read_deployment(
        env_name,
        cfn=cfn,
        logs=logs,
        invocation=args.invocation_ms,
        task_rate=args.task_orders_per_s,
        compare_run=args.compare_run,
        lambda_log=args.lambda_log,
    )
    study, deployed = study_model(p), deployed_model(d)
    study_even = break_even(p, study)
    deployed_even = break_even(p, deployed) if deployed else None
    rows = [cost_row(float(volume), p) for volume in p["workload"]["volumes"]]
    out_dir = args.out or scenarios.run_dir(config.results_dir(), "cost")
    out_dir.mkdir(parents=True, exist_ok=True)
    top = max(float(v) for v in p["workload"]["volumes"]) * 2
    volumes = [10_000 * (top / 10_000) ** (i / 200) for i in range(201)]
    lines = {}
    for label, model in (("original study", study), ("deployed", deployed)):
        if model is not None:
            curve = [cost_row(v, p, model) for v in volumes]
            lines[f"ECS Fargate ({label})"] = [r.ecs_total for r in curve]
            lines[f"Lambda ({label})"] = [r.lambda_total for r in curve]
    chart = plots.cost_chart(
        volumes, lines, deployed_even if deployed else study_even, out_dir / "cost.png"
    )
    text = render(p, rows, d, [(study, study_even), (deployed, deployed_even)], chart.name)
    (out_dir / "cost.md").write_text(text)
    (out_dir / "cost.json").write_text(
        json.dumps(
            {
                "rows": [
                    {**asdict(r), "ecs_total": r.ecs_total, "lambda_total": r.lambda_total}
                    for r in rows
                ],
                "break_even_orders": study_even,
                "deployed": {
                    "inputs": {k: asdict(v) for k, v in d.inputs().items()},
                    "model": asdict(deployed) if deployed else None,
                    "rows": [
                        asdict(cost_row(float(v), p, deployed)) for v in p["workload"]["volumes"]
                    ]
                    if deployed
                    else None,
                    "break_even_orders": deployed_even,
                },
                "source": p["source"],
            },
            indent=2,
        )
    )
    print(cost_table(rows))
    print(f"\n{crossing(study_even, study, 'original study')}")
    print("\ndeployed configuration:")
    print(side_by_side([row.orders for row in rows], p, deployed))
    print(crossing(deployed_even, deployed, "deployed"))
    for line in deployment_lines(d):
        print(f"  {line}")
    print(f"report: {out_dir / 'cost.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
