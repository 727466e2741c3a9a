"""Snapshot tests of every generated template, plus the conventions other services rely on.

The snapshots under tests/unit/snapshots/ are the reviewed JSON of each stack. After an intended
change, regenerate them and review the diff:
    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_templates.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from flashsale_stacks import names, registry

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
STACK_KEYS = [spec.key for spec in registry.STACKS]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return registry.render_all()


def template(rendered: dict[str, str], key: str) -> dict[str, Any]:
    return json.loads(rendered[key])


def resources_of(doc: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in doc["Resources"].items() if v["Type"] == resource_type}


@pytest.mark.parametrize("key", STACK_KEYS)
def test_template_matches_snapshot(rendered: dict[str, str], key: str) -> None:
    snapshot = SNAPSHOTS / f"{key}.json"
    if UPDATE:
        snapshot.write_text(rendered[key])
    assert snapshot.exists(), f"no snapshot for {key}: run with UPDATE_SNAPSHOTS=1"
    assert rendered[key] == snapshot.read_text(), (
        f"{key} template changed; if intended, regenerate with UPDATE_SNAPSHOTS=1 and review"
    )


def test_no_stale_snapshots() -> None:
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.json")) == sorted(STACK_KEYS)


def test_generation_is_deterministic(rendered: dict[str, str]) -> None:
    assert registry.render_all() == rendered


@pytest.mark.parametrize("key", STACK_KEYS)
def test_every_stack_is_parameterised_by_env_name(rendered: dict[str, str], key: str) -> None:
    doc = template(rendered, key)
    assert doc["Parameters"]["EnvName"]["Default"] == "local"
    # every physical name and export carries the environment prefix
    for resource in doc["Resources"].values():
        for prop in ("TableName", "QueueName", "TopicName", "FunctionName", "ClusterName"):
            if prop in resource.get("Properties", {}) and resource["Type"].endswith(
                ("Table", "Queue", "Topic", "Function", "Cluster")
            ):
                assert "${EnvName}-" in json.dumps(resource["Properties"][prop])
    for output in doc.get("Outputs", {}).values():
        if "Export" in output:
            assert output["Export"]["Name"]["Fn::Sub"].startswith("${EnvName}-")


def test_every_import_is_exported_by_a_declared_dependency(rendered: dict[str, str]) -> None:
    exports = {
        key: {
            o["Export"]["Name"]["Fn::Sub"]
            for o in template(rendered, key).get("Outputs", {}).values()
            if "Export" in o
        }
        for key in STACK_KEYS
    }
    for spec in registry.STACKS:
        imported = set(_find_imports(template(rendered, spec.key)))
        available = (
            set().union(*(exports[k] for k in spec.imports_from)) if spec.imports_from else set()
        )
        assert imported <= available, f"{spec.key} imports {imported - available} nobody exports"
        assert bool(imported) == bool(spec.imports_from), spec.key


def _find_imports(node: Any) -> list[str]:
    if isinstance(node, dict):
        if "Fn::ImportValue" in node:
            return [node["Fn::ImportValue"]["Fn::Sub"]]
        return [i for value in node.values() for i in _find_imports(value)]
    if isinstance(node, list):
        return [i for value in node for i in _find_imports(value)]
    return []


def test_data_tables_follow_the_shared_layout(rendered: dict[str, str]) -> None:
    tables = {
        t["Properties"]["TableName"]["Fn::Sub"]: t["Properties"]
        for t in resources_of(template(rendered, "data"), "AWS::DynamoDB::Table").values()
    }
    keys = {
        name: [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]]
        for name, props in tables.items()
    }
    assert keys == {
        "${EnvName}-orders": [("order_id", "HASH")],
        "${EnvName}-products": [("product_id", "HASH")],
        "${EnvName}-idempotency": [("id", "HASH")],
        "${EnvName}-payments": [("order_id", "HASH"), ("charge_id", "RANGE")],
    }
    types = {
        a["AttributeName"]: a["AttributeType"]
        for props in tables.values()
        for a in props["AttributeDefinitions"]
    }
    assert types == {"order_id": "S", "product_id": "N", "id": "S", "charge_id": "S"}
    assert all(p["BillingMode"] == "PAY_PER_REQUEST" for p in tables.values())
    assert tables["${EnvName}-idempotency"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiration",
        "Enabled": True,
    }
    # the gateway's idempotency keys expire; charges carry no expires_at and stay
    assert tables["${EnvName}-payments"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_messaging_routes_each_path_to_its_own_queue(rendered: dict[str, str]) -> None:
    doc = template(rendered, "messaging")
    queues = resources_of(doc, "AWS::SQS::Queue")
    assert {q["Properties"]["QueueName"]["Fn::Sub"] for q in queues.values()} == {
        "${EnvName}-order-queue",
        "${EnvName}-order-dlq",
        "${EnvName}-payment-queue",
        "${EnvName}-payment-dlq",
    }
    subscriptions = {
        s["Properties"]["Endpoint"]["Fn::GetAtt"][0]: s["Properties"]
        for s in resources_of(doc, "AWS::SNS::Subscription").values()
    }
    assert {k: v["FilterPolicy"] for k, v in subscriptions.items()} == {
        "OrderQueue": {"route": ["ecs"]},
        "PaymentQueue": {"route": ["lambda"]},
    }
    assert all(s["RawMessageDelivery"] is True for s in subscriptions.values())
    assert all(s["FilterPolicyScope"] == "MessageAttributes" for s in subscriptions.values())
    assert doc["Parameters"]["MaxReceiveCount"]["Default"] == "5"
    for queue in ("OrderQueue", "PaymentQueue"):
        redrive = queues[queue]["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == {
            "Fn::GetAtt": [queue.replace("Queue", "Dlq"), "Arn"]
        }
        assert redrive["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}


def test_visibility_timeouts_are_well_above_payment_time(rendered: dict[str, str]) -> None:
    messaging = template(rendered, "messaging")["Parameters"]
    payment_fn = template(rendered, "payment_fn")["Parameters"]
    payment_seconds = float(payment_fn["PaymentLatencySeconds"]["Default"])
    assert int(messaging["OrderQueueVisibilityTimeout"]["Default"]) >= 10 * payment_seconds
    # AWS's guidance for an SQS event source: visibility >= 6x the function timeout
    assert int(messaging["PaymentQueueVisibilityTimeout"]["Default"]) >= 6 * int(
        payment_fn["TimeoutSeconds"]["Default"]
    )


def test_queue_policies_only_let_the_topic_send(rendered: dict[str, str]) -> None:
    policies = resources_of(template(rendered, "messaging"), "AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Action"] == "sqs:SendMessage"
        assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "OrderTopic"}}}


def test_payment_fn_is_the_shared_contract(rendered: dict[str, str]) -> None:
    doc = template(rendered, "payment_fn")
    (function,) = resources_of(doc, "AWS::Lambda::Function").values()
    props = function["Properties"]
    assert props["FunctionName"] == {"Fn::Sub": "${EnvName}-payment-fn"}
    assert props["Handler"] == names.PAYMENT_FN_HANDLER == "payment_fn.handler.lambda_handler"
    assert props["Runtime"] == "python3.11"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Code"] == {"S3Bucket": {"Ref": "CodeS3Bucket"}, "S3Key": {"Ref": "CodeS3Key"}}
    with_endpoint, without = props["Environment"]["Variables"]["Fn::If"][1:]
    assert with_endpoint["AWS_ENDPOINT_URL_DYNAMODB"] == {"Ref": "DynamoDbEndpoint"}
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in without
    for variable in ("ORDERS_TABLE", "PRODUCTS_TABLE", "IDEMPOTENCY_TABLE", "PAYMENTS_TABLE"):
        assert without[variable]["Fn::Sub"].startswith("${EnvName}-")

    (mapping,) = resources_of(doc, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["BatchSize"] == {"Ref": "BatchSize"}
    assert mapping["Properties"]["MaximumBatchingWindowInSeconds"] == {
        "Ref": "MaximumBatchingWindowSeconds"
    }
    assert mapping["Properties"]["EventSourceArn"] == {
        "Fn::ImportValue": {"Fn::Sub": "${EnvName}-payment-queue-arn"}
    }
    assert mapping["Properties"]["ScalingConfig"] == {
        "Fn::If": [
            "ConcurrencyLimited",
            {"MaximumConcurrency": {"Ref": "MaximumConcurrency"}},
            {"Ref": "AWS::NoValue"},
        ]
    }
    parameter = doc["Parameters"]["MaximumConcurrency"]
    assert (parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (
        "0",
        "0",
        "1000",
    )
    (invoke_config,) = resources_of(doc, "AWS::Lambda::EventInvokeConfig").values()
    assert invoke_config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailureQueue", "Arn"]
    }
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": ["Reserved", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }


def test_observability_alarms_on_every_dead_letter_queue(rendered: dict[str, str]) -> None:
    alarms = resources_of(template(rendered, "observability"), "AWS::CloudWatch::Alarm")
    dlq_alarms = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::Sub"]
        for a in alarms.values()
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert dlq_alarms == {
        "${EnvName}-order-dlq",
        "${EnvName}-payment-dlq",
        "${EnvName}-payment-fn-failures",
    }
    metrics = sorted(a["Properties"]["MetricName"] for a in alarms.values())
    for metric in (
        "ApproximateAgeOfOldestMessage",
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "Errors",
        "Throttles",
    ):
        assert metric in metrics


def test_api_health_checks_hit_the_health_endpoint(rendered: dict[str, str]) -> None:
    doc = template(rendered, "api")
    (target_group,) = resources_of(doc, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    assert target_group["Properties"]["HealthCheckPath"] == "/health"
    assert target_group["Properties"]["Port"] == names.API_CONTAINER_PORT


def test_processor_scales_on_backlog_per_task(rendered: dict[str, str]) -> None:
    doc = template(rendered, "processor")
    (policy,) = resources_of(doc, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    metrics = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"][
        "CustomizedMetricSpecification"
    ]["Metrics"]
    assert [m.get("Expression") for m in metrics if m.get("ReturnData")] == ["visible / tasks"]
    (task,) = resources_of(doc, "AWS::ECS::TaskDefinition").values()
    containers = {c["Name"] for c in task["Properties"]["ContainerDefinitions"]}
    assert containers == {"processor", "xray-daemon"}
