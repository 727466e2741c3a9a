"""The cost model's inputs that come from the system, not from a price list: the deployed
payment_fn and processor stacks' sizing, and durations and rates measured in a run.

Every input carries its source. The stacks' settings are the deployed stack's parameters when
the stack is deployed (CloudFormation), else the template's defaults (said so). A figure that
must be measured (Lambda duration per invocation, orders/s one ECS task sustained) comes from a
run or is given explicitly; without either it is None, and the report prints n/a.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAYMENT_FN = "payment_fn"
PROCESSOR = "processor"
_REPORT = re.compile(r"REPORT RequestId: \S+\s+Duration: ([\d.]+) ms\s+Billed Duration: (\d+) ms")


@dataclass(frozen=True)
class Input:
    """One input of the model and where it came from; value None = not available."""

    value: float | None
    source: str


def missing(what: str) -> Input:
    return Input(None, f"not available: {what}")


@dataclass(frozen=True)
class Deployment:
    """What the deployed configuration and a measured run say about one order's cost."""

    lambda_memory_mb: Input
    batch_size: Input
    payments_in_flight: Input
    payment_latency_s: Input
    invocation_ms: Input
    task_cpu_units: Input
    task_memory_mib: Input
    min_tasks: Input
    task_orders_per_s: Input

    def inputs(self) -> dict[str, Input]:
        return dict(self.__dict__)

    def missing(self) -> list[str]:
        return [name for name, item in self.inputs().items() if item.value is None]


# the stacks' settings ------------------------------------------------------------------------
def template_defaults(key: str) -> dict[str, str]:
    """Parameter defaults of the stack `key` as the troposphere code declares them."""
    from flashsale_stacks import registry

    template = registry.get(key).build()
    return {
        name: str(param.properties["Default"])
        for name, param in template.parameters.items()
        if "Default" in param.properties
    }


def deployed_parameters(cfn: Any, stack_name: str) -> dict[str, str] | None:
    """The parameters the stack was deployed with; None when it is not deployed (or no
    CloudFormation answers)."""
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception:
        return None
    if not stacks:
        return None
    return {p["ParameterKey"]: p["ParameterValue"] for p in stacks[0].get("Parameters", [])}


def stack_settings(key: str, env_name: str, cfn: Any | None) -> tuple[dict[str, str], str]:
    """(parameters, source) of stack `key`: deployed if found, else the template's defaults."""
    name = f"{env_name}-{key.replace('_', '-')}"
    deployed = deployed_parameters(cfn, name) if cfn is not None else None
    if deployed is not None:
        return {**template_defaults(key), **deployed}, f"deployed stack {name}"
    return template_defaults(key), f"template default of the {key} stack (not deployed)"


def _param(params: Mapping[str, str], name: str, source: str) -> Input:
    raw = params.get(name)
    if raw is None:
        return missing(f"{name} in the {source}")
    return Input(float(raw), f"{name}, {source}")


# measured figures ----------------------------------------------------------------------------
def report_durations(lines: Iterable[str]) -> list[float]:
    """Billed durations (ms) of the Lambda REPORT lines among `lines`."""
    return [float(m.group(2)) for m in map(_REPORT.search, lines) if m]


def invocation_ms(billed_ms: Iterable[float], latency_s: float | None, where: str) -> Input:
    """Median billed duration of the invocations that paid (lasted at least one payment
    latency; shorter ones are probes that charged nothing)."""
    floor = (latency_s or 0.0) * 1000
    paying = [ms for ms in billed_ms if ms >= floor]
    if not paying:
        return missing(f"no REPORT line of a paying invocation in {where}")
    return Input(
        statistics.median(paying),
        f"median billed duration of {len(paying)} invocations (REPORT lines in {where})",
    )


def log_lines(logs: Any, group: str, max_pages: int = 50) -> list[str]:
    """The REPORT lines of a CloudWatch log group (bounded)."""
    lines: list[str] = []
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, filterPattern="REPORT"
        )
        for index, page in enumerate(pages):
            lines += [event.get("message", "") for event in page.get("events", [])]
            if index + 1 >= max_pages:
                break
    except Exception:
        return []
    return lines


def task_rate_from_compare(run_dir: Path) -> Input:
    """Orders/s the processor (one task) sustained in a `load-compare` run's async-ecs phase:
    completed orders over the load window plus the drain after it."""
    path = run_dir / "summary.json"
    if not path.exists():
        return missing(f"no summary.json in {run_dir}")
    for summary in json.loads(path.read_text()).get("phases", []):
        if summary.get("phase") != "async-ecs":
            continue
        completed = summary["completed_in_window"] + summary["completed_after_window"]
        span = summary["window_s"] + (summary.get("drain_s") or 0.0)
        if completed and span > 0:
            return Input(
                completed / span,
                f"async-ecs phase of {run_dir.name}: {completed} orders completed in {span:.0f} s",
            )
    return missing(f"no completed async-ecs phase in {run_dir}")


def explicit(value: float, flag: str) -> Input:
    return Input(value, f"given explicitly ({flag})")


def read_deployment(
    env_name: str,
    cfn: Any | None = None,
    logs: Any | None = None,
    invocation: float | None = None,
    task_rate: float | None = None,
    compare_run: Path | None = None,
    lambda_log: Path | None = None,
) -> Deployment:
    """The deployed model's inputs: stacks from `cfn` (None: template defaults), the Lambda's
    duration per invocation from `invocation` (ms), else `lambda_log` (a file of REPORT lines),
    else the function's CloudWatch logs via `logs`; one task's orders/s from `task_rate`, else
    `compare_run`."""
    fn, fn_source = stack_settings(PAYMENT_FN, env_name, cfn)
    proc, proc_source = stack_settings(PROCESSOR, env_name, cfn)
    latency = _param(fn, "PaymentLatencySeconds", fn_source)
    if invocation is not None:
        duration = explicit(invocation, "--invocation-ms")
    elif lambda_log is not None:
        lines = lambda_log.read_text().splitlines()
        duration = invocation_ms(report_durations(lines), latency.value, lambda_log.name)
    elif logs is not None:
        group = f"/aws/lambda/{env_name}-payment-fn"
        duration = invocation_ms(report_durations(log_lines(logs, group)), latency.value, group)
    else:
        duration = missing("no run given (--invocation-ms, --lambda-log or --stack)")
    if task_rate is not None:
        rate = explicit(task_rate, "--task-orders-per-s")
    elif compare_run is not None:
        rate = task_rate_from_compare(compare_run)
    else:
        rate = missing("no run given (--task-orders-per-s or --compare-run)")
    return Deployment(
        lambda_memory_mb=_param(fn, "MemorySize", fn_source),
        batch_size=_param(fn, "BatchSize", fn_source),
        payments_in_flight=_param(fn, "PaymentConcurrency", fn_source),
        payment_latency_s=latency,
        invocation_ms=duration,
        task_cpu_units=_param(proc, "Cpu", proc_source),
        task_memory_mib=_param(proc, "Memory", proc_source),
        min_tasks=_param(proc, "MinCapacity", proc_source),
        task_orders_per_s=rate,
    )
