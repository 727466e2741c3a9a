"""SNS and SQS semantics the pipeline relies on, against the real LocalStack."""

from __future__ import annotations

import json
import uuid

import pytest

from flashsale_kit.polling import wait_until


@pytest.fixture
def names() -> str:
    return f"it-{uuid.uuid4().hex[:10]}"


def make_queue(sqs, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, attributes["Attributes"]["QueueArn"]


def receive_all(sqs, url: str, wait: int = 1) -> list[dict]:
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageAttributeNames=["All"]
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_sns_to_sqs_raw_delivery_with_route_filter_policies(aws, names):
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=f"{names}-topic")["TopicArn"]
    queues = {}
    for route in ("ecs", "lambda"):
        url, arn = make_queue(sqs, f"{names}-{route}")
        raw = {"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"route": [route]})}
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=raw)
        queues[route] = url
    try:
        for route in ("ecs", "lambda", "lambda"):
            sns.publish(
                TopicArn=topic,
                Message=json.dumps({"route": route}),
                MessageAttributes={"route": {"DataType": "String", "StringValue": route}},
            )
        ecs = wait_until(lambda: receive_all(sqs, queues["ecs"]))
        lambda_bodies: list[str] = []
        wait_until(
            lambda: (
                lambda_bodies.extend(m["Body"] for m in receive_all(sqs, queues["lambda"]))
                or len(lambda_bodies) >= 2
            )
        )
        assert [json.loads(m["Body"]) for m in ecs] == [{"route": "ecs"}]  # raw body, no envelope
        assert ecs[0]["MessageAttributes"]["route"]["StringValue"] == "ecs"
        assert sorted(json.loads(b)["route"] for b in lambda_bodies) == ["lambda", "lambda"]
        assert receive_all(sqs, queues["ecs"]) == []  # nothing else arrived
    finally:
        sns.delete_topic(TopicArn=topic)
        for url in queues.values():
            sqs.delete_queue(QueueUrl=url)


def test_poison_message_reaches_the_dlq_after_max_receive_count_and_redrives_back(aws, names):
    sqs = aws("sqs")
    dlq_url, dlq_arn = make_queue(sqs, f"{names}-dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    url, arn = make_queue(sqs, f"{names}-work", VisibilityTimeout="1", RedrivePolicy=redrive)
    try:
        sqs.send_message(QueueUrl=url, MessageBody="poison")
        counts = []

        def receive_without_delete() -> bool:
            got = sqs.receive_message(
                QueueUrl=url, WaitTimeSeconds=1, AttributeNames=["ApproximateReceiveCount"]
            ).get("Messages", [])
            counts.extend(int(m["Attributes"]["ApproximateReceiveCount"]) for m in got)
            return len(counts) >= 2

        wait_until(receive_without_delete, timeout=15)
        # like AWS, the move to the DLQ happens on the receive after the last allowed one
        dead = wait_until(lambda: receive_without_delete() and receive_all(sqs, dlq_url), 15)
        assert counts == [1, 2]
        assert [m["Body"] for m in dead] == ["poison"]

        sqs.send_message(QueueUrl=dlq_url, MessageBody="poison-2")
        sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=arn)
        back = wait_until(lambda: receive_all(sqs, url), timeout=15)
        assert [m["Body"] for m in back] == ["poison-2"]
    finally:
        sqs.delete_queue(QueueUrl=url)
        sqs.delete_queue(QueueUrl=dlq_url)


def test_localstack_keeps_a_clients_connection_alive(aws):
    """Each boto3 call reuses its pooled connection: a `Connection: close` answer (LocalStack's
    hypercorn gateway) made every call reconnect and cost LocalStack a thread per request."""
    sqs = aws("sqs")
    for _ in range(2):
        headers = sqs.list_queues(MaxResults=1)["ResponseMetadata"]["HTTPHeaders"]
        assert headers.get("connection", "keep-alive").lower() != "close"
