"""The change-set deploy engine against a scripted fake of the CloudFormation API; emulator gaps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from flashsale_stacks import emulator_gaps, registry
from flashsale_stacks.deploy import DeployFailed, Waiter, delete_stack, deploy_stack, format_event

NO_CHANGES = "The submitted information didn't contain changes. Submit different information."


def _error(message: str, code: str = "ValidationError") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Operation")


class FakeCloudFormation:
    """Just enough CloudFormation: stacks, change sets that apply at once, events."""

    def __init__(self) -> None:
        self.stacks: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.change_sets: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        # behaviour switches for a test
        self.change_set_result: dict[str, Any] = {"Status": "CREATE_COMPLETE", "Changes": []}
        self.raise_on_create_change_set: ClientError | None = None
        self.execution_outcome = "COMPLETE"  # or "ROLLBACK"
        self.describes_before_settled = 0

    # describe ------------------------------------------------------------------------------------
    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        self.calls.append("describe_stacks")
        stack = self.stacks.get(StackName) or next(
            (s for s in self.stacks.values() if s["StackId"] == StackName), None
        )
        if stack is None:
            raise _error(f"Stack with id {StackName} does not exist")
        if self.describes_before_settled and stack["StackStatus"].endswith("_IN_PROGRESS"):
            self.describes_before_settled -= 1
            if not self.describes_before_settled:
                stack["StackStatus"] = stack.pop("_final")
        return {"Stacks": [dict(stack)]}

    def describe_stack_events(self, StackName: str) -> dict[str, Any]:
        name = self._name(StackName)
        return {"StackEvents": list(reversed(self.events.get(name, [])))}

    def get_paginator(self, _operation: str) -> Any:
        fake = self

        class Paginator:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:
                return [fake.describe_stack_events(StackName)]

        return Paginator()

    # change sets ---------------------------------------------------------------------------------
    def create_change_set(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(f"create_change_set:{kwargs['ChangeSetType']}")
        if self.raise_on_create_change_set:
            raise self.raise_on_create_change_set
        name = kwargs["StackName"]
        if kwargs["ChangeSetType"] == "CREATE" and name not in self.stacks:
            self.stacks[name] = {
                "StackName": name,
                "StackId": f"arn:stack/{name}/1",
                "StackStatus": "REVIEW_IN_PROGRESS",
            }
            self._event(name, name, "REVIEW_IN_PROGRESS")
        change_set_id = f"arn:changeSet/{kwargs['ChangeSetName']}"
        self.change_sets[change_set_id] = {**self.change_set_result, "kwargs": kwargs}
        return {"Id": change_set_id}

    def describe_change_set(self, ChangeSetName: str, StackName: str) -> dict[str, Any]:
        return dict(self.change_sets[ChangeSetName])

    def delete_change_set(self, ChangeSetName: str, StackName: str) -> None:
        self.calls.append("delete_change_set")
        del self.change_sets[ChangeSetName]

    def execute_change_set(self, ChangeSetName: str, StackName: str) -> None:
        self.calls.append("execute_change_set")
        change_set = self.change_sets.pop(ChangeSetName)
        kind = change_set["kwargs"]["ChangeSetType"]
        stack = self.stacks[StackName]
        if self.execution_outcome == "COMPLETE":
            self._event(StackName, "Queue", f"{kind}_COMPLETE")
            stack.update(StackStatus=f"{kind}_COMPLETE", Outputs=[
                {"OutputKey": "QueueUrl", "OutputValue": "http://queue"}
            ])  # fmt: skip
        else:
            self._event(StackName, "Queue", f"{kind}_FAILED", "Resource handler returned: boom")
            self._event(StackName, StackName, "ROLLBACK_COMPLETE")
            stack["StackStatus"] = (
                "ROLLBACK_COMPLETE" if kind == "CREATE" else "UPDATE_ROLLBACK_COMPLETE"
            )

    def delete_stack(self, StackName: str) -> None:
        self.calls.append("delete_stack")
        name = self._name(StackName)
        del self.stacks[name]

    # helpers -------------------------------------------------------------------------------------
    def _name(self, name_or_id: str) -> str:
        return next(
            (n for n, s in self.stacks.items() if name_or_id in (n, s["StackId"])), name_or_id
        )

    def _event(self, stack: str, logical_id: str, status: str, reason: str = "") -> None:
        events = self.events.setdefault(stack, [])
        events.append(
            {
                "EventId": f"e{len(events)}",
                "LogicalResourceId": logical_id,
                "ResourceStatus": status,
                "ResourceType": "AWS::SQS::Queue",
                "ResourceStatusReason": reason,
                "Timestamp": datetime(2026, 1, 1, tzinfo=UTC),
            }
        )


@pytest.fixture
def cfn() -> FakeCloudFormation:
    return FakeCloudFormation()


def deploy(cfn: FakeCloudFormation, **params: str):
    return deploy_stack(
        cfn, "dev-messaging", "{}", params, {"Project": "flashsale"}, WAITER, log=lambda _: None
    )


WAITER = Waiter(timeout=60, interval=0, sleep=lambda _: None)


def test_a_new_stack_is_created_through_a_create_change_set(cfn: FakeCloudFormation) -> None:
    result = deploy(cfn, EnvName="dev")
    assert result.action == "created"
    assert result.outputs == {"QueueUrl": "http://queue"}
    assert cfn.calls.count("create_change_set:CREATE") == 1
    assert "execute_change_set" in cfn.calls
    assert cfn.stacks["dev-messaging"]["StackStatus"] == "CREATE_COMPLETE"


def test_parameters_and_tags_are_passed_sorted(cfn: FakeCloudFormation) -> None:
    seen: dict[str, Any] = {}
    original = cfn.create_change_set

    def spy(**kwargs: Any) -> dict[str, Any]:
        seen.update(kwargs)
        return original(**kwargs)

    cfn.create_change_set = spy  # type: ignore[method-assign]
    deploy(cfn, Z="1", A="2")
    assert [p["ParameterKey"] for p in seen["Parameters"]] == ["A", "Z"]
    assert seen["Tags"] == [{"Key": "Project", "Value": "flashsale"}]
    assert "CAPABILITY_NAMED_IAM" in seen["Capabilities"]


def test_an_existing_stack_is_updated(cfn: FakeCloudFormation) -> None:
    deploy(cfn)
    result = deploy(cfn, MaxReceiveCount="3")
    assert result.action == "updated"
    assert "create_change_set:UPDATE" in cfn.calls


def test_an_empty_change_set_is_no_changes_not_an_error(cfn: FakeCloudFormation) -> None:
    deploy(cfn)
    cfn.change_set_result = {"Status": "FAILED", "StatusReason": NO_CHANGES}
    cfn.calls.clear()
    result = deploy(cfn)
    assert result.action == "unchanged"
    assert result.outputs == {"QueueUrl": "http://queue"}
    assert "execute_change_set" not in cfn.calls
    assert "delete_change_set" in cfn.calls
    assert cfn.change_sets == {}


def test_an_update_refused_up_front_is_no_changes_too(cfn: FakeCloudFormation) -> None:
    """moto rejects an identical update in CreateChangeSet itself."""
    deploy(cfn)
    cfn.raise_on_create_change_set = _error("No updates are to be performed.")
    assert deploy(cfn).action == "unchanged"


def test_other_change_set_errors_propagate(cfn: FakeCloudFormation) -> None:
    cfn.raise_on_create_change_set = _error("Template format error: unsupported resource")
    with pytest.raises(ClientError):
        deploy(cfn)


def test_a_failed_change_set_is_a_deploy_failure(cfn: FakeCloudFormation) -> None:
    cfn.change_set_result = {"Status": "FAILED", "StatusReason": "No export named dev-x found"}
    with pytest.raises(DeployFailed, match="No export named dev-x"):
        deploy(cfn)


def test_a_failed_execution_reports_this_attempts_events(cfn: FakeCloudFormation) -> None:
    deploy(cfn)
    cfn.execution_outcome = "ROLLBACK"
    with pytest.raises(DeployFailed) as failure:
        deploy(cfn, MaxReceiveCount="0")
    statuses = [e["ResourceStatus"] for e in failure.value.events]
    assert statuses == ["UPDATE_FAILED", "ROLLBACK_COMPLETE"]  # not the earlier creation's
    assert "boom" in format_event(failure.value.events[0])


def test_a_stack_whose_creation_rolled_back_is_deleted_and_recreated(
    cfn: FakeCloudFormation,
) -> None:
    cfn.execution_outcome = "ROLLBACK"
    with pytest.raises(DeployFailed):
        deploy(cfn)
    assert cfn.stacks["dev-messaging"]["StackStatus"] == "ROLLBACK_COMPLETE"
    cfn.execution_outcome = "COMPLETE"
    cfn.calls.clear()
    assert deploy(cfn).action == "created"
    assert cfn.calls.index("delete_stack") < cfn.calls.index("create_change_set:CREATE")


def test_a_stack_in_progress_is_waited_for(cfn: FakeCloudFormation) -> None:
    deploy(cfn)
    cfn.stacks["dev-messaging"].update(StackStatus="UPDATE_IN_PROGRESS", _final="UPDATE_COMPLETE")
    cfn.describes_before_settled = 3
    assert deploy(cfn, X="1").action == "updated"


def test_waiting_gives_up_at_the_deadline(cfn: FakeCloudFormation) -> None:
    deploy(cfn)
    cfn.stacks["dev-messaging"].update(StackStatus="UPDATE_IN_PROGRESS", _final="UPDATE_COMPLETE")
    cfn.describes_before_settled = 10**9
    now = [0.0]
    waiter = Waiter(
        timeout=3, interval=1, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0]
    )
    with pytest.raises(DeployFailed, match="timed out"):
        deploy_stack(cfn, "dev-messaging", "{}", {}, {}, waiter, log=lambda _: None)


def test_delete_removes_the_stack_and_tolerates_absence(cfn: FakeCloudFormation) -> None:
    deploy(cfn)
    assert delete_stack(cfn, "dev-messaging", WAITER, log=lambda _: None) is True
    assert cfn.stacks == {}
    assert delete_stack(cfn, "dev-messaging", WAITER, log=lambda _: None) is False


class FakeDynamoDb:
    def __init__(self, enabled: set[str]) -> None:
        self.enabled = enabled
        self.updates: list[dict[str, Any]] = []

    def describe_time_to_live(self, TableName: str) -> dict[str, Any]:
        status = "ENABLED" if TableName in self.enabled else "DISABLED"
        return {"TimeToLiveDescription": {"TimeToLiveStatus": status}}

    def update_time_to_live(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)
        self.enabled.add(kwargs["TableName"])


def test_ttl_the_emulator_skipped_is_set_once() -> None:
    body = registry.get("data").render()
    assert emulator_gaps.declared_ttl(body, "dev") == {
        "dev-idempotency": "expiration",
        "dev-payments": "expires_at",
    }
    dynamodb = FakeDynamoDb(enabled=set())
    assert sorted(emulator_gaps.apply_ttl(dynamodb, body, "dev")) == [
        "dev-idempotency",
        "dev-payments",
    ]
    assert sorted(dynamodb.updates, key=lambda u: u["TableName"]) == [
        {
            "TableName": "dev-idempotency",
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
        },
        {
            "TableName": "dev-payments",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        },
    ]
    assert emulator_gaps.apply_ttl(dynamodb, body, "dev") == []
