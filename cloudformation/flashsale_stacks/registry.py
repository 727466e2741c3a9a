"""The stacks, in deploy order, and where each one runs locally."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from troposphere import Template

from flashsale_stacks.render import render
from flashsale_stacks.stacks import (
    api,
    data,
    messaging,
    network,
    observability,
    payment_fn,
    processor,
)


class LocalTarget(StrEnum):
    """Which local CloudFormation engine deploys a stack (`--env local`)."""

    LOCALSTACK = "localstack"  # SNS, SQS, Lambda, IAM, Logs, CloudWatch
    MOTO = "moto"  # DynamoDB: community LocalStack cannot run it offline
    #: VPC, ECS, ALB, alarms: created on moto (directly, not by change set: moto reports exports
    #: only then) to prove the templates deploy; the local pipeline itself does not use them
    MOTO_INFRA = "moto-infra"


@dataclass(frozen=True)
class StackSpec:
    key: str
    build: Callable[[], Template]
    local: LocalTarget
    imports_from: tuple[str, ...] = ()  # stacks whose exports this one imports

    def stack_name(self, env_name: str) -> str:
        return f"{env_name}-{self.key.replace('_', '-')}"

    def render(self) -> str:
        return render(self.build())


STACKS: tuple[StackSpec, ...] = (
    StackSpec("network", network.build, LocalTarget.MOTO_INFRA),
    StackSpec("data", data.build, LocalTarget.MOTO),
    StackSpec("messaging", messaging.build, LocalTarget.LOCALSTACK),
    StackSpec("payment_fn", payment_fn.build, LocalTarget.LOCALSTACK, ("messaging",)),
    StackSpec("api", api.build, LocalTarget.MOTO_INFRA, ("network", "messaging")),
    StackSpec("processor", processor.build, LocalTarget.MOTO_INFRA, ("network", "messaging")),
    StackSpec(
        "observability",
        observability.build,
        LocalTarget.MOTO_INFRA,
        ("messaging", "payment_fn", "api"),
    ),
)
BY_KEY = {spec.key: spec for spec in STACKS}


def get(key: str) -> StackSpec:
    """The stack called `key` (`payment-fn` and `payment_fn` both work)."""
    try:
        return BY_KEY[key.replace("-", "_")]
    except KeyError:
        raise KeyError(f"unknown stack {key!r}; stacks: {', '.join(BY_KEY)}") from None


def render_all() -> dict[str, str]:
    return {spec.key: spec.render() for spec in STACKS}
