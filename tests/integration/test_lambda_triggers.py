"""SNS and SQS (event source mapping) delivering to a function on the local Lambda executor."""

from __future__ import annotations

import json

from integration import lambda_support as support
from integration.lambda_support import Functions, client, unique, wait_until

lam, sqs, functions, queues = (
    support.lam,
    support.sqs,
    support.functions,
    support.queues,
)  # fixtures


def drain(queue_client, url: str) -> list[dict]:
    messages = queue_client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    notes = []
    for message in messages.get("Messages", []):
        notes.append(json.loads(message["Body"]))
        queue_client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return notes


def test_sns_delivers_to_the_function(lam, sqs, functions: Functions, queues):
    sink, _ = queues()
    name = functions.create("records", env={"SINK_URL": sink})
    sns = client("sns")
    topic = sns.create_topic(Name=unique("it-topic"))["TopicArn"]
    try:
        function_arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)
        sns.publish(TopicArn=topic, Message="order-1")
        notes = wait_until(lambda: drain(sqs, sink))
        assert notes == [{"body": "order-1", "attempt": 1}]
    finally:
        sns.delete_topic(TopicArn=topic)


def test_sqs_partial_batch_failure_returns_only_the_failed_record(
    lam, sqs, functions: Functions, queues
):
    sink, _ = queues()
    source, source_arn = queues(VisibilityTimeout="2")
    name = functions.create("records", timeout=2, env={"SINK_URL": sink})
    mapping = lam.create_event_source_mapping(
        EventSourceArn=source_arn,
        FunctionName=name,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    try:
        wait_until(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")
        sqs.send_message_batch(
            QueueUrl=source,
            Entries=[
                {"Id": str(index), "MessageBody": body}
                for index, body in enumerate(["ok-1", "fail-1", "ok-2"])
            ],
        )
        notes: list[dict] = []

        def failed_record_came_back() -> bool:
            notes.extend(drain(sqs, sink))
            return {"body": "fail-1", "attempt": 2} in notes

        wait_until(failed_record_came_back, timeout=30)

        def source_empty() -> bool:
            attributes = sqs.get_queue_attributes(
                QueueUrl=source,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            return all(value == "0" for value in attributes.values())

        wait_until(source_empty, timeout=10)
        notes.extend(drain(sqs, sink))
        assert sorted(notes, key=lambda note: (note["body"], note["attempt"])) == [
            {"body": "fail-1", "attempt": 1},
            {"body": "fail-1", "attempt": 2},
            {"body": "ok-1", "attempt": 1},
            {"body": "ok-2", "attempt": 1},
        ]
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
