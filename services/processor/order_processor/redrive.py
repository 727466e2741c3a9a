"""Move dead-lettered messages back to their source queue.

SQS's StartMessageMoveTask does it server-side where supported (AWS, LocalStack); otherwise
(e.g. moto) messages are received, re-sent with their attributes and deleted, in batches of 10.
A message is deleted from the DLQ only after it was sent, so a crash can duplicate but never
lose one; consumers are idempotent on order_id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

#: Error codes meaning "this endpoint cannot run message move tasks".
_UNSUPPORTED = {
    "UnsupportedOperation",
    "InvalidAction",
    "NotImplemented",
    "InternalFailure",
    "AWS.SimpleQueueService.UnsupportedOperation",
}


@dataclass(frozen=True)
class RedriveResult:
    moved: int
    method: str  # "move-task" or "copy"
    failed: int = 0


def queue_arn(client: Any, queue_url: str) -> str:
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def redrive(
    client: Any,
    dlq_url: str,
    source_url: str,
    *,
    use_move_task: bool = True,
    max_messages: int | None = None,
    timeout: float = 300.0,
) -> RedriveResult:
    """Move messages from `dlq_url` to `source_url`; returns how many moved."""
    if use_move_task and max_messages is None:
        try:
            return _move_task(client, dlq_url, source_url, timeout)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in _UNSUPPORTED:
                raise
            log.info("message move tasks unsupported here; copying", extra={"code": code})
        except NotImplementedError:  # moto, in process
            log.info("message move tasks unsupported here; copying")
    return _copy(client, dlq_url, source_url, max_messages)


def _move_task(
    client: Any,
    dlq_url: str,
    source_url: str,
    timeout: float,
    poll: Callable[[float], None] = time.sleep,
) -> RedriveResult:
    source_arn = queue_arn(client, dlq_url)
    destination_arn = queue_arn(client, source_url)
    handle = client.start_message_move_task(SourceArn=source_arn, DestinationArn=destination_arn)[
        "TaskHandle"
    ]
    deadline = time.monotonic() + timeout
    while True:
        tasks = client.list_message_move_tasks(SourceArn=source_arn, MaxResults=10)["Results"]
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        status = task.get("Status")
        if status == "COMPLETED":
            return RedriveResult(int(task.get("ApproximateNumberOfMessagesMoved", 0)), "move-task")
        if status in {"FAILED", "CANCELLED"}:
            raise RuntimeError(f"message move task {status}: {task.get('FailureReason', '')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"message move task still {status} after {timeout:.0f} s")
        poll(0.5)


def _copy(client: Any, dlq_url: str, source_url: str, max_messages: int | None) -> RedriveResult:
    moved = failed = 0
    while max_messages is None or moved < max_messages:
        wanted = 10 if max_messages is None else min(10, max_messages - moved)
        batch = client.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=wanted,
            WaitTimeSeconds=1,
            VisibilityTimeout=60,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        entries = []
        for index, message in enumerate(batch):
            entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        sent = client.send_message_batch(QueueUrl=source_url, Entries=entries)
        ok = {int(entry["Id"]) for entry in sent.get("Successful", [])}
        failed += len(batch) - len(ok)
        if ok:
            client.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": batch[i]["ReceiptHandle"]} for i in sorted(ok)
                ],
            )
        moved += len(ok)
        if not ok:  # nothing could be sent: stop rather than spin on the same messages
            break
    return RedriveResult(moved, "copy", failed)
