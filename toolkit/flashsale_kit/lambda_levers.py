"""Levers of the running payment Lambda: its environment, its SQS trigger, its concurrency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flashsale_kit.polling import wait_until
from flashsale_kit.running import RunningStack, StackError


def function_env(stack: RunningStack) -> dict[str, str]:
    config = stack.client("lambda").get_function_configuration(FunctionName=stack.function_name)
    return dict(config.get("Environment", {}).get("Variables", {}))


def set_function_env(
    stack: RunningStack, variables: Mapping[str, str], timeout: float = 60
) -> None:
    """Replace the function's environment and wait until the update is live (a new cold start)."""
    lambda_ = stack.client("lambda")
    lambda_.update_function_configuration(
        FunctionName=stack.function_name, Environment={"Variables": dict(variables)}
    )

    def updated() -> bool:
        config = lambda_.get_function_configuration(FunctionName=stack.function_name)
        if config.get("LastUpdateStatus") == "Failed":
            raise StackError(f"updating {stack.function_name} failed: {config}")
        return config.get("LastUpdateStatus") in (None, "Successful") and config.get("State") in (
            None,
            "Active",
        )

    wait_until(updated, timeout, 0.2, f"{stack.function_name} updated")


def payment_mapping(stack: RunningStack) -> dict[str, Any] | None:
    """The event source mapping feeding the payment Lambda from the payment queue."""
    mappings = stack.client("lambda").list_event_source_mappings(FunctionName=stack.function_name)
    for mapping in mappings.get("EventSourceMappings", []):
        if mapping.get("EventSourceArn") == stack.queue_arn("payment-queue"):
            return mapping
    return None


def set_mapping_enabled(
    stack: RunningStack,
    enabled: bool,
    timeout: float = 60,
    maximum_concurrency: int | None = None,
    batch: tuple[int, int] | None = None,
) -> None:
    """Enable or disable the payment queue's mapping; with `maximum_concurrency`, also set its
    ScalingConfig (0 removes it: no limit but the function's); with `batch`, its BatchSize
    and MaximumBatchingWindowInSeconds."""
    mapping = payment_mapping(stack)
    if mapping is None:
        raise StackError(f"no event source mapping feeds {stack.function_name}")
    update: dict[str, Any] = {"UUID": mapping["UUID"], "Enabled": enabled}
    if maximum_concurrency is not None:
        update["ScalingConfig"] = (
            {"MaximumConcurrency": maximum_concurrency} if maximum_concurrency else {}
        )
    if batch is not None:
        update["BatchSize"], update["MaximumBatchingWindowInSeconds"] = batch
    lambda_ = stack.client("lambda")
    lambda_.update_event_source_mapping(**update)
    wanted = "Enabled" if enabled else "Disabled"
    wait_until(
        lambda: lambda_.get_event_source_mapping(UUID=mapping["UUID"]).get("State") == wanted,
        timeout,
        0.2,
        f"event source mapping {wanted}",
    )


def reserved_concurrency(stack: RunningStack) -> int | None:
    response = stack.client("lambda").get_function_concurrency(FunctionName=stack.function_name)
    return response.get("ReservedConcurrentExecutions")


def set_reserved_concurrency(stack: RunningStack, value: int | None) -> None:
    """Reserve `value` concurrent executions for the payment function; None removes it."""
    lambda_ = stack.client("lambda")
    if value is None:
        lambda_.delete_function_concurrency(FunctionName=stack.function_name)
    else:
        lambda_.put_function_concurrency(
            FunctionName=stack.function_name, ReservedConcurrentExecutions=value
        )
