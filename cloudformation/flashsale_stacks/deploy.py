"""Deploy one stack through a change set: create or update, wait, report.

An empty change set means "no changes" (not an error). A failed deployment raises DeployFailed
carrying the stack events of this attempt, so the CLI can print them and exit non-zero.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

NO_CHANGES_MARKERS = ("didn't contain changes", "No updates are to be performed")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
RECREATE = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED"}  # failed creations: only deletion helps


class DeployFailed(Exception):
    def __init__(self, message: str, events: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.events = events or []


@dataclass(frozen=True)
class DeployResult:
    stack_name: str
    action: str  # created | updated | unchanged
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Waiter:
    """Polls until a predicate holds or the deadline passes."""

    timeout: float
    interval: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def until(self, what: str, probe: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
        deadline = self.clock() + self.timeout
        while True:
            value = probe()
            if done(value):
                return value
            if self.clock() >= deadline:
                raise DeployFailed(f"timed out after {self.timeout:.0f} s waiting for {what}")
            self.sleep(self.interval)


def describe(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack (by name or id), or None if it does not exist or was deleted."""
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
        return None
    return stacks[0]


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def events_after(cfn: Any, stack_name: str, last_seen_id: str | None) -> list[dict[str, Any]]:
    """The stack's events newer than `last_seen_id`, oldest first."""
    newer: list[dict[str, Any]] = []
    try:
        pages = cfn.get_paginator("describe_stack_events").paginate(StackName=stack_name)
        for page in pages:
            for event in page["StackEvents"]:  # newest first
                if event["EventId"] == last_seen_id:
                    return list(reversed(newer))
                newer.append(event)
    except ClientError:
        pass  # the stack is gone (e.g. a failed creation that rolled back and was deleted)
    return list(reversed(newer))


def _latest_event_id(cfn: Any, stack_name: str) -> str | None:
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except ClientError:
        return None
    return events[0]["EventId"] if events else None


def _settled(stack: dict[str, Any] | None) -> bool:
    return stack is None or not stack["StackStatus"].endswith("_IN_PROGRESS")


def deploy_stack(
    cfn: Any,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str],
    tags: Mapping[str, str],
    waiter: Waiter,
    log: Callable[[str], None] = print,
    change_set: bool = True,
) -> DeployResult:
    """Create or update `stack_name` to `template_body` and wait for it: through a change set,
    or (`change_set=False`) by CreateStack/UpdateStack, since moto reports exports only then."""
    stack = describe(cfn, stack_name)
    if stack is not None and not _settled(stack):
        status = stack["StackStatus"]
        if status != "REVIEW_IN_PROGRESS":
            log(f"{stack_name}: waiting for {status} to finish")
            stack = waiter.until(
                f"{stack_name} to settle", lambda: describe(cfn, stack_name), _settled
            )
    if stack is not None and stack["StackStatus"] in RECREATE:
        log(f"{stack_name}: {stack['StackStatus']} (a failed creation); deleting it first")
        delete_stack(cfn, stack_name, waiter, log)
        stack = None
    if not change_set:
        return _deploy_directly(
            cfn, stack, stack_name, template_body, parameters, tags, waiter, log
        )
    change_type = (
        "CREATE" if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS" else "UPDATE"
    )

    change_set_name = f"flashsale-{uuid.uuid4().hex[:12]}"
    try:
        response = cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=change_set_name,
            ChangeSetType=change_type,
            TemplateBody=template_body,
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in sorted(parameters.items())
            ],
            Capabilities=CAPABILITIES,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        )
    except ClientError as error:
        if not _says_no_changes(str(error)):  # moto refuses an identical update right here
            raise
        return _unchanged(cfn, stack_name, log)
    change_set_id = response["Id"]
    change_set = waiter.until(
        f"change set of {stack_name}",
        lambda: cfn.describe_change_set(ChangeSetName=change_set_id, StackName=stack_name),
        lambda cs: cs["Status"] in ("CREATE_COMPLETE", "FAILED"),
    )
    reason = change_set.get("StatusReason") or ""
    if change_set["Status"] == "FAILED":
        with contextlib.suppress(ClientError):  # a failed change set is only clutter
            cfn.delete_change_set(ChangeSetName=change_set_id, StackName=stack_name)
        if _says_no_changes(reason):
            return _unchanged(cfn, stack_name, log)
        raise DeployFailed(f"{stack_name}: change set failed: {reason}")
    # An executable change set is executed even when it lists no resource changes: emulators
    # report parameter-only changes that way, and AWS never does (it fails the change set).
    for change in change_set.get("Changes", []):
        rc = change.get("ResourceChange", {})
        log(
            f"{stack_name}: {rc.get('Action', '?'):8} {rc.get('LogicalResourceId', '?')} "
            f"({rc.get('ResourceType', '?')})"
        )
    last_event = _latest_event_id(cfn, stack_name)
    cfn.execute_change_set(ChangeSetName=change_set_id, StackName=stack_name)
    final = _finished(cfn, stack_name, change_type.lower(), waiter, last_event)
    action = "created" if change_type == "CREATE" else "updated"
    log(f"{stack_name}: {final['StackStatus']}")
    return DeployResult(stack_name, action, outputs_of(final))


def _deploy_directly(
    cfn: Any,
    stack: dict[str, Any] | None,
    stack_name: str,
    template_body: str,
    parameters: Mapping[str, str],
    tags: Mapping[str, str],
    waiter: Waiter,
    log: Callable[[str], None],
) -> DeployResult:
    request = {
        "StackName": stack_name,
        "TemplateBody": template_body,
        "Parameters": [
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in sorted(parameters.items())
        ],
        "Capabilities": CAPABILITIES,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }
    last_event = _latest_event_id(cfn, stack_name) if stack is not None else None
    try:
        (cfn.create_stack if stack is None else cfn.update_stack)(**request)
    except ClientError as error:
        if not _says_no_changes(str(error)):
            raise
        return _unchanged(cfn, stack_name, log)
    what = "create" if stack is None else "update"
    final = _finished(cfn, stack_name, what, waiter, last_event)
    log(f"{stack_name}: {final['StackStatus']}")
    return DeployResult(stack_name, "created" if stack is None else "updated", outputs_of(final))


def _finished(
    cfn: Any, stack_name: str, what: str, waiter: Waiter, last_event: str | None
) -> dict[str, Any]:
    """The stack once its create/update settled; DeployFailed with its events unless it worked."""
    final = waiter.until(
        f"{stack_name} {what}",
        lambda: describe(cfn, stack_name),
        lambda s: s is None or s["StackStatus"] in SUCCESS or _failed(s["StackStatus"]),
    )
    if final is None or final["StackStatus"] not in SUCCESS:
        status = final["StackStatus"] if final else "DELETED"
        raise DeployFailed(
            f"{stack_name}: {status} {final.get('StackStatusReason', '') if final else ''}".strip(),
            events_after(cfn, stack_name, last_event),
        )
    return final


def _failed(status: str) -> bool:
    return not status.endswith("_IN_PROGRESS") and status not in SUCCESS


def _says_no_changes(message: str) -> bool:
    return any(marker in message for marker in NO_CHANGES_MARKERS)


def _unchanged(cfn: Any, stack_name: str, log: Callable[[str], None]) -> DeployResult:
    log(f"{stack_name}: no changes")
    return DeployResult(stack_name, "unchanged", outputs_of(describe(cfn, stack_name) or {}))


def delete_stack(
    cfn: Any, stack_name: str, waiter: Waiter, log: Callable[[str], None] = print
) -> bool:
    """Delete the stack and wait; False if there was nothing to delete."""
    stack = describe(cfn, stack_name)
    if stack is None:
        log(f"{stack_name}: does not exist")
        return False
    last_event = _latest_event_id(cfn, stack_name)
    cfn.delete_stack(StackName=stack["StackId"])
    # Polled by name: a deleted stack is gone by name, a DELETE_FAILED one is not. (By id, moto
    # re-evaluates a deleted stack's outputs, re-creating the resources they name.)
    final = waiter.until(
        f"{stack_name} deletion",
        lambda: describe(cfn, stack_name),
        lambda s: s is None or not s["StackStatus"].endswith("_IN_PROGRESS"),
    )
    if final is not None and final["StackStatus"] != "DELETE_COMPLETE":
        raise DeployFailed(
            f"{stack_name}: {final['StackStatus']}", events_after(cfn, stack["StackId"], last_event)
        )
    log(f"{stack_name}: deleted")
    return True


def format_event(event: Mapping[str, Any]) -> str:
    timestamp = event.get("Timestamp")
    when = timestamp.strftime("%H:%M:%S") if hasattr(timestamp, "strftime") else str(timestamp)
    reason = event.get("ResourceStatusReason") or ""
    return (
        f"{when} {event.get('ResourceStatus', '?'):24} {event.get('LogicalResourceId', '?')} "
        f"({event.get('ResourceType', '?')}) {reason}".rstrip()
    )
