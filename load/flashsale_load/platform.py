"""The running local stack, as the experiments need it: endpoints, resource names, clients, and
the launcher hooks that stop, reconfigure and start a consumer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import requests

from flashsale.settings import Settings
from localaws import envfile
from localaws.config import CALLS_PATH, PlatformConfig

PROCESSOR = "processor"


def apply_platform_env() -> PlatformConfig:
    """Point boto3 at the local platform: `.state/env` (what `make up` wrote), then the standard
    local endpoints, never overriding what the caller's environment already sets."""
    cfg = PlatformConfig.from_env()
    for key, value in {**cfg.client_env(), **envfile.read(cfg.env_file)}.items():
        os.environ.setdefault(key, value)
    return cfg


@dataclass
class Stack:
    cfg: PlatformConfig
    settings: Settings

    @classmethod
    def local(cls) -> Stack:
        cfg = apply_platform_env()
        return cls(cfg, Settings.from_env())

    @cached_property
    def _session(self) -> boto3.session.Session:
        return boto3.session.Session()

    @cached_property
    def sqs(self) -> Any:
        return self._session.client("sqs")

    @cached_property
    def lambda_(self) -> Any:
        return self._session.client("lambda")

    @cached_property
    def dynamodb(self) -> Any:
        return self._session.client("dynamodb")

    @property
    def queues(self) -> dict[str, str]:
        """The two work queues, by short name."""
        names = {"order-queue": self.settings.order_queue_url}
        names["payment-queue"] = self.settings.payment_queue_url
        return {name: url for name, url in names.items() if url}

    def queue_arn(self, short: str) -> str:
        name = self.queues[short].rstrip("/").rsplit("/", 1)[-1]
        account = self.settings.account_id or "000000000000"
        return f"arn:aws:sqs:{self.settings.region}:{account}:{name}"

    @property
    def function_name(self) -> str:
        return f"{self.settings.env_name}-payment-fn"

    @property
    def run_dir(self) -> Path:
        return self.cfg.run_dir

    def queue_depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


# launcher hooks ------------------------------------------------------------------------------
def launcher(
    command: str,
    name: str,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
) -> None:
    """`python -m localaws <command> <name>` (stop | restart). The launcher starts a component
    with the caller's environment: `env` is added to it, `unset` names are left out first."""
    environ = {key: value for key, value in os.environ.items() if key not in set(unset)}
    result = subprocess.run(
        [sys.executable, "-m", "localaws", command, name],
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"`python -m localaws {command} {name}` failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-500:]}"
        )


# the payment Lambda --------------------------------------------------------------------------
def function_env(stack: Stack) -> dict[str, str]:
    config = stack.lambda_.get_function_configuration(FunctionName=stack.function_name)
    return dict(config.get("Environment", {}).get("Variables", {}))


def set_function_env(stack: Stack, variables: Mapping[str, str], timeout: float = 60) -> None:
    """Replace the function's environment and wait until the update is live (a new cold start)."""
    stack.lambda_.update_function_configuration(
        FunctionName=stack.function_name, Environment={"Variables": dict(variables)}
    )
    _wait_function_updated(stack, timeout)


def _wait_function_updated(stack: Stack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        config = stack.lambda_.get_function_configuration(FunctionName=stack.function_name)
        if config.get("LastUpdateStatus") in (None, "Successful") and config.get("State") in (
            None,
            "Active",
        ):
            return
        if config.get("LastUpdateStatus") == "Failed":
            raise RuntimeError(f"updating {stack.function_name} failed: {config}")
        time.sleep(0.2)
    raise TimeoutError(f"{stack.function_name} still updating after {timeout} s")


def payment_mapping(stack: Stack) -> dict[str, Any] | None:
    """The event source mapping feeding the payment Lambda from the payment queue."""
    mappings = stack.lambda_.list_event_source_mappings(FunctionName=stack.function_name)
    for mapping in mappings.get("EventSourceMappings", []):
        if mapping.get("EventSourceArn") == stack.queue_arn("payment-queue"):
            return mapping
    return None


def set_mapping_enabled(
    stack: Stack,
    enabled: bool,
    timeout: float = 60,
    maximum_concurrency: int | None = None,
) -> None:
    """Enable or disable the payment queue's mapping; with `maximum_concurrency`, also set its
    ScalingConfig (0 removes it: no limit but the function's)."""
    mapping = payment_mapping(stack)
    if mapping is None:
        raise RuntimeError(f"no event source mapping feeds {stack.function_name}")
    update: dict[str, Any] = {"UUID": mapping["UUID"], "Enabled": enabled}
    if maximum_concurrency is not None:
        update["ScalingConfig"] = (
            {"MaximumConcurrency": maximum_concurrency} if maximum_concurrency else {}
        )
    stack.lambda_.update_event_source_mapping(**update)
    wanted = "Enabled" if enabled else "Disabled"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = stack.lambda_.get_event_source_mapping(UUID=mapping["UUID"]).get("State")
        if state == wanted:
            return
        time.sleep(0.2)
    raise TimeoutError(f"event source mapping still not {wanted} after {timeout} s")


def reserved_concurrency(stack: Stack) -> int | None:
    response = stack.lambda_.get_function_concurrency(FunctionName=stack.function_name)
    return response.get("ReservedConcurrentExecutions")


def set_reserved_concurrency(stack: Stack, value: int | None) -> None:
    """Reserve `value` concurrent executions for the payment function; None removes it."""
    if value is None:
        stack.lambda_.delete_function_concurrency(FunctionName=stack.function_name)
    else:
        stack.lambda_.put_function_concurrency(
            FunctionName=stack.function_name, ReservedConcurrentExecutions=value
        )


# moto's request counter -------------------------------------------------------------------
def dynamodb_calls(stack: Stack) -> dict[str, int] | None:
    """DynamoDB requests moto served since it started, per operation; None when it cannot say."""
    try:
        response = requests.get(f"{stack.cfg.moto_url}{CALLS_PATH}", timeout=5)
        response.raise_for_status()
        return dict(response.json().get("dynamodb", {}))
    except (requests.RequestException, ValueError):
        return None
