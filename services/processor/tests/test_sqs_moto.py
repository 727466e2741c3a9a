"""The SQS adapter and the redrive command against moto's SQS, in process."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from moto import mock_aws

from order_processor.queue import SqsQueue
from order_processor.redrive import redrive


@pytest.fixture
def sqs(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def queues(sqs):
    dlq = sqs.create_queue(QueueName="t-order-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    source = sqs.create_queue(
        QueueName="t-order-queue",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
        },
    )["QueueUrl"]
    return source, dlq


ROUTE = {"route": {"DataType": "String", "StringValue": "ecs"}}


def test_receive_reports_receive_count_and_attributes(sqs, queues):
    source, _ = queues
    sqs.send_message(QueueUrl=source, MessageBody="hello", MessageAttributes=ROUTE)
    queue = SqsQueue.resolve(sqs, None, "t-order-queue")
    assert queue.url == source

    [first] = queue.receive(10, 0, visibility_timeout=30)
    assert (first.body, first.receive_count, first.attributes) == ("hello", 1, {"route": "ecs"})
    assert queue.receive(10, 0, 30) == []  # invisible while we work on it

    queue.change_visibility(first.receipt_handle, 0)
    [again] = queue.receive(10, 0, 30)
    assert again.receive_count == 2
    assert queue.delete_many([again.receipt_handle]) == []
    assert queue.receive(10, 0, 0) == []


def test_delete_many_deletes_a_batch_and_names_what_failed(sqs, queues):
    source, _ = queues
    for index in range(3):
        sqs.send_message(QueueUrl=source, MessageBody=str(index))
    queue = SqsQueue(sqs, source)
    received = queue.receive(10, 0, 0)
    assert len(received) == 3
    handles = [m.receipt_handle for m in received]
    assert queue.delete_many([*handles, "bogus"]) == ["bogus"]
    assert queue.receive(10, 0, 0) == []
    with pytest.raises(ValueError):
        queue.delete_many([])


def test_extend_renews_many_messages_in_batches(sqs, queues):
    source, _ = queues
    for index in range(12):
        sqs.send_message(QueueUrl=source, MessageBody=str(index))
    queue = SqsQueue(sqs, source)
    received = queue.receive(10, 0, 30) + queue.receive(10, 0, 30)
    assert len(received) == 12

    failed = queue.extend([m.receipt_handle for m in received] + ["bogus"], 60)
    assert failed == ["bogus"]


def test_poison_reaches_the_dlq_and_redrive_copies_it_back(sqs, queues):
    source, dlq = queues
    queue = SqsQueue(sqs, source)
    sqs.send_message(QueueUrl=source, MessageBody="poison", MessageAttributes=ROUTE)
    for _ in range(2):  # maxReceiveCount 2: released at once each time, as the worker does
        [poison] = queue.receive(1, 0, 30)
        queue.change_visibility(poison.receipt_handle, 0)
    assert queue.receive(1, 0, 30) == []  # the third receive finds it dead-lettered

    result = redrive(sqs, dlq, source)  # moto has no message move task: falls back to copying

    assert (result.moved, result.method, result.failed) == (1, "copy", 0)
    [back] = queue.receive(1, 0, 30)
    assert (back.body, back.attributes) == ("poison", {"route": "ecs"})
    assert SqsQueue(sqs, dlq).receive(10, 0, 0) == []


def test_redrive_can_move_a_limited_number(sqs, queues):
    source, dlq = queues
    for index in range(15):
        sqs.send_message(QueueUrl=dlq, MessageBody=str(index))
    result = redrive(sqs, dlq, source, use_move_task=False, max_messages=12)
    assert result.moved == 12
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert (
        int(attributes["ApproximateNumberOfMessages"])
        + int(attributes["ApproximateNumberOfMessagesNotVisible"])
        == 3
    )


def test_redrive_prefers_a_message_move_task_where_supported():
    class MoveTaskClient:
        """What AWS and LocalStack answer: a task that completes with a count."""

        def __init__(self) -> None:
            self.started: dict = {}
            self.polls = 0

        def get_queue_attributes(self, QueueUrl, AttributeNames):
            return {"Attributes": {"QueueArn": f"arn:{QueueUrl}"}}

        def start_message_move_task(self, **kwargs):
            self.started = kwargs
            return {"TaskHandle": "h-1"}

        def list_message_move_tasks(self, SourceArn, MaxResults):
            self.polls += 1
            status = "COMPLETED" if self.polls > 1 else "RUNNING"
            moved = 7 if status == "COMPLETED" else 3
            return {
                "Results": [
                    {
                        "TaskHandle": "h-1",
                        "Status": status,
                        "ApproximateNumberOfMessagesMoved": moved,
                    }
                ]
            }

    client = MoveTaskClient()
    result = redrive(client, "dlq", "src", timeout=5)
    assert (result.moved, result.method) == (7, "move-task")
    assert client.started == {"SourceArn": "arn:dlq", "DestinationArn": "arn:src"}
