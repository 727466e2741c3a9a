"""Deploy the messaging (LocalStack) and data (moto) stacks from scratch with the CLI, check the
routing the filter policies promise, then delete and re-deploy a stack.

Endpoints come from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_DYNAMODB, as the shared `local_aws`
fixture sets them (the platform `make up` started). Every run uses its own environment name, so
it never touches the pipeline's own stacks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from flashsale import events
from flashsale.domain.model import Order, OrderItem
from flashsale_kit.polling import wait_until
from flashsale_stacks import registry
from flashsale_stacks.cli import main
from flashsale_stacks.deploy import describe, outputs_of
from flashsale_stacks.targets import Env, Target

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def target(local_aws: dict[str, str]) -> Target:
    """The local endpoints (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB) the CLI deploys to."""
    return Target.from_environ(Env.LOCAL)


@pytest.fixture(scope="module")
def env_name(target: Target) -> Iterator[str]:
    name = f"it{uuid.uuid4().hex[:8]}"
    yield name
    for key in ("messaging", "data"):  # whatever a failed test left behind
        main(["delete", key, "--env", "local", "--env-name", name])


@pytest.fixture(scope="module")
def deployed(env_name: str, target: Target) -> dict[str, str]:
    for key in ("data", "messaging"):
        assert main(["deploy", key, "--env", "local", "--env-name", env_name]) == 0
    return messaging_outputs(target, env_name)


def messaging_outputs(target: Target, env_name: str) -> dict[str, str]:
    spec = registry.get("messaging")
    stack = describe(target.cloudformation(spec), spec.stack_name(env_name))
    assert stack is not None
    return outputs_of(stack)


def clients() -> tuple[Any, Any]:
    target = Target.from_environ(Env.LOCAL)
    return target.client("sns"), target.client("sqs")


def publish_order(topic_arn: str, route: str) -> str:
    """Publish an OrderPlaced the way the API does (the shared encoder: body + attributes)."""
    order = Order.new(123, [OrderItem(product_id=1, quantity=2, unit_price=Decimal("9.99"))], route)
    body, attributes = events.encode(events.OrderPlaced.from_order(order))
    sns, _ = clients()
    sns.publish(TopicArn=topic_arn, Message=body, MessageAttributes=attributes)
    return order.order_id


def received_order_ids(queue_url: str, wait_seconds: int) -> set[str]:
    """Receive (and delete) what the queue holds; raw delivery: the body is the event itself."""
    _, sqs = clients()
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_seconds,
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return {events.decode(m["Body"]).order_id for m in messages}


def assert_routed(outputs: dict[str, str], route: str, expected: str, other: str) -> None:
    order_id = publish_order(outputs["OrderTopicArn"], route)
    wait_until(
        lambda: order_id in received_order_ids(outputs[expected], wait_seconds=1),
        timeout=15,
        what=f"{route} order in {expected}",
    )
    # both subscriptions are evaluated on the same publish: the other queue had its chance
    assert order_id not in received_order_ids(outputs[other], wait_seconds=1)


def test_each_route_reaches_only_its_own_queue(deployed: dict[str, str]) -> None:
    assert_routed(deployed, "ecs", "OrderQueueUrl", "PaymentQueueUrl")
    assert_routed(deployed, "lambda", "PaymentQueueUrl", "OrderQueueUrl")


def test_a_sync_order_event_reaches_neither_queue(deployed: dict[str, str]) -> None:
    order_id = publish_order(deployed["OrderTopicArn"], "sync")
    assert_routed(deployed, "ecs", "OrderQueueUrl", "PaymentQueueUrl")  # a later message arrives
    for queue in ("OrderQueueUrl", "PaymentQueueUrl"):
        assert order_id not in received_order_ids(deployed[queue], wait_seconds=1)


def test_queues_carry_their_redrive_policy(deployed: dict[str, str]) -> None:
    _, sqs = clients()
    attributes = sqs.get_queue_attributes(
        QueueUrl=deployed["OrderQueueUrl"], AttributeNames=["RedrivePolicy", "VisibilityTimeout"]
    )["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == deployed["OrderDlqArn"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert int(attributes["VisibilityTimeout"]) >= 30


def test_data_tables_exist_with_the_idempotency_ttl(
    deployed: dict[str, str], env_name: str, target: Target
) -> None:
    dynamodb = target.dynamodb()
    tables = set(dynamodb.list_tables()["TableNames"])
    for suffix in ("orders", "products", "idempotency", "payments"):
        assert f"{env_name}-{suffix}" in tables
    ttl = dynamodb.describe_time_to_live(TableName=f"{env_name}-idempotency")
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiration",
    }


def test_redeploying_unchanged_stacks_changes_nothing(
    deployed: dict[str, str], env_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("data", "messaging"):
        assert main(["deploy", key, "--env", "local", "--env-name", env_name]) == 0
    out = capsys.readouterr().out
    assert out.count(": no changes") == 2


def test_a_deleted_stack_can_be_deployed_again(
    deployed: dict[str, str], env_name: str, target: Target
) -> None:
    _, sqs = clients()
    assert main(["delete", "messaging", "--env", "local", "--env-name", env_name]) == 0
    with pytest.raises(ClientError):
        sqs.get_queue_url(QueueName=f"{env_name}-order-queue")

    assert main(["deploy", "messaging", "--env", "local", "--env-name", env_name]) == 0
    outputs = messaging_outputs(target, env_name)
    assert outputs["OrderQueueUrl"].endswith(f"/{env_name}-order-queue")
    assert_routed(outputs, "lambda", "PaymentQueueUrl", "OrderQueueUrl")
