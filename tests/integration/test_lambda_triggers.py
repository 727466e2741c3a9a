"""SNS and SQS (event source mapping) delivering to a function on the local Lambda executor."""

from __future__ import annotations

import json
import time

from integration import lambda_support as support
from integration.lambda_support import Functions, client, unique

from flashsale_kit.polling import wait_until

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


# the scaling SQS trigger (localaws_lambda_executor.sqs_trigger) ------------------------------
def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most intervals open at the same instant."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    open_now = peak = 0
    for _, step in edges:
        open_now += step
        peak = max(peak, open_now)
    return peak


def collect(sqs, sink: str, expected_bodies: int, timeout: float) -> list[dict]:
    notes: list[dict] = []

    def all_there() -> bool:
        notes.extend(drain(sqs, sink))
        return sum(len(note["bodies"]) for note in notes) >= expected_bodies

    wait_until(all_there, timeout=timeout)
    return notes


def enabled_mapping(lam, **kwargs) -> dict:
    mapping = lam.create_event_source_mapping(**kwargs)
    wait_until(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled")
    return mapping


def send_bodies(sqs, url: str, bodies: list[str]) -> None:
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start:][:10])],
        )


def held_batches(
    lam, sqs, functions: Functions, queues, count: int, hold_s: float, reserved=None, **mapping
) -> tuple[int, int]:
    """`count` messages, one per batch, each invocation holding `hold_s` seconds: (the most
    batches seen at once, runtime processes used). Every message arrives exactly once."""
    sink, _ = queues()
    source, source_arn = queues(VisibilityTimeout="60")
    env = {"SINK_URL": sink, "HOLD_SECONDS": str(hold_s)}
    name = functions.create("hold", timeout=20, env=env)
    if reserved is not None:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    esm = enabled_mapping(lam, EventSourceArn=source_arn, FunctionName=name, BatchSize=1, **mapping)
    try:
        bodies = [f"m-{i}" for i in range(count)]
        send_bodies(sqs, source, bodies)
        notes = collect(sqs, sink, len(bodies), timeout=120)
    finally:
        lam.delete_event_source_mapping(UUID=esm["UUID"])
    # a throttled or lost invoke would show as a missing or repeated body
    assert sorted(body for note in notes for body in note["bodies"]) == sorted(bodies)
    return most_at_once([(n["start"], n["end"]) for n in notes]), len({n["pid"] for n in notes})


def test_sqs_trigger_starts_with_five_batches_in_flight(lam, sqs, functions: Functions, queues):
    peak, processes = held_batches(lam, sqs, functions, queues, count=10, hold_s=3)
    print(f"\nno limit: {peak} batches at once, {processes} runtime processes")
    assert peak >= 5
    assert processes >= peak  # one process per batch in flight


def test_sqs_trigger_runs_batches_concurrently_up_to_maximum_concurrency(
    lam, sqs, functions: Functions, queues
):
    peak, processes = held_batches(
        lam, sqs, functions, queues, count=12, hold_s=1, ScalingConfig={"MaximumConcurrency": 3}
    )
    print(f"\nMaximumConcurrency 3: {peak} batches at once, {processes} runtime processes")
    assert 1 < peak <= 3
    assert 1 < processes <= 3  # warm processes are reused, none beyond the cap


def test_sqs_trigger_stays_within_reserved_concurrency(lam, sqs, functions: Functions, queues):
    peak, processes = held_batches(lam, sqs, functions, queues, count=8, hold_s=1, reserved=2)
    print(f"\nreserved concurrency 2: {peak} batches at once, {processes} runtime processes")
    assert peak == 2


def test_sqs_trigger_redrives_a_record_that_keeps_failing(lam, sqs, functions: Functions, queues):
    sink, _ = queues()
    dlq, dlq_arn = queues()
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    source, source_arn = queues(VisibilityTimeout="1", RedrivePolicy=policy)
    name = functions.create("records", timeout=2, env={"SINK_URL": sink})
    mapping = enabled_mapping(
        lam,
        EventSourceArn=source_arn,
        FunctionName=name,
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    try:
        sqs.send_message_batch(
            QueueUrl=source,
            Entries=[
                {"Id": "0", "MessageBody": "poison-1"},
                {"Id": "1", "MessageBody": "ok-1"},
            ],
        )
        dead = wait_until(lambda: dead_letters(sqs, dlq), timeout=60)
        notes: list[dict] = []
        wait_until(lambda: notes.extend(drain(sqs, sink)) or len(notes) >= 3, timeout=10)
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert dead == ["poison-1"]
    # the good record of the same batch was deleted after its first, successful attempt
    assert [n for n in notes if n["body"] == "ok-1"] == [{"body": "ok-1", "attempt": 1}]
    assert sorted(n["attempt"] for n in notes if n["body"] == "poison-1") == [1, 2]


def dead_letters(sqs, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [message["Body"] for message in messages.get("Messages", [])]


def test_sqs_trigger_picks_up_a_lone_message_at_once(lam, sqs, functions: Functions, queues):
    sink, _ = queues()
    source, source_arn = queues()
    name = functions.create("hold", env={"SINK_URL": sink})
    mapping = enabled_mapping(lam, EventSourceArn=source_arn, FunctionName=name, BatchSize=10)
    try:
        # warm: the first invoke starts the runtime process
        send_bodies(sqs, source, ["warm-up"])
        collect(sqs, sink, 1, timeout=30)
        latencies = []
        for attempt in range(3):
            sent = time.time()
            send_bodies(sqs, source, [f"lone-{attempt}"])
            (note,) = collect(sqs, sink, 1, timeout=30)
            latencies.append(note["start"] - sent)
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    print(
        "\nlone message, queued -> handler start: "
        + ", ".join(f"{s * 1000:.0f} ms" for s in latencies)
    )
    assert len(latencies) == 3
