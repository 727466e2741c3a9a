"""The SQS side of the processor: a small queue interface and its boto3 adapter."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: SQS batch APIs take at most 10 entries.
BATCH_LIMIT = 10


@dataclass(frozen=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1
    #: Message attributes as plain strings, e.g. {"route": "ecs", "event_type": "OrderPlaced"}.
    attributes: dict[str, str] = field(default_factory=dict)
    #: SQS's AWSTraceHeader system attribute (set when the sender's call carried a trace header).
    aws_trace_header: str | None = None


class MessageQueue(Protocol):
    def receive(
        self, max_messages: int, wait_seconds: int, visibility_timeout: int
    ) -> list[Message]:
        """Long-poll for up to `max_messages` (1..10) messages."""

    def delete_many(self, receipt_handles: Sequence[str]) -> list[str]:
        """Delete up to 10 messages in one call; returns the receipt handles that failed."""

    def change_visibility(self, receipt_handle: str, timeout: int) -> None:
        """Make a message visible again after `timeout` seconds (0: at once)."""

    def extend(self, receipt_handles: Sequence[str], timeout: int) -> list[str]:
        """Set the visibility of many messages; returns the receipt handles that failed."""


def _chunks(items: Sequence[Any], size: int = BATCH_LIMIT) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _attribute_strings(raw: dict[str, Any]) -> dict[str, str]:
    return {
        name: value["StringValue"]
        for name, value in raw.items()
        if isinstance(value, dict) and "StringValue" in value
    }


class SqsQueue:
    """MessageQueue over a boto3 SQS client (clients are thread-safe; one is shared)."""

    def __init__(self, client: Any, queue_url: str):
        self.client = client
        self.url = queue_url

    @classmethod
    def resolve(cls, client: Any, queue_url: str | None, queue_name: str) -> SqsQueue:
        """Use `queue_url` when known, else look the queue up by name."""
        url = queue_url or client.get_queue_url(QueueName=queue_name)["QueueUrl"]
        return cls(client, url)

    def receive(
        self, max_messages: int, wait_seconds: int, visibility_timeout: int
    ) -> list[Message]:
        response = self.client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max(1, min(max_messages, BATCH_LIMIT)),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_timeout,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        return [
            Message(
                message_id=raw["MessageId"],
                receipt_handle=raw["ReceiptHandle"],
                body=raw.get("Body", ""),
                receive_count=int(raw.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                attributes=_attribute_strings(raw.get("MessageAttributes", {})),
                aws_trace_header=raw.get("Attributes", {}).get("AWSTraceHeader"),
            )
            for raw in response.get("Messages", [])
        ]

    def delete_many(self, receipt_handles: Sequence[str]) -> list[str]:
        if not 0 < len(receipt_handles) <= BATCH_LIMIT:
            raise ValueError(f"delete 1..{BATCH_LIMIT} messages at once")
        entries = [
            {"Id": str(index), "ReceiptHandle": handle}
            for index, handle in enumerate(receipt_handles)
        ]
        response = self.client.delete_message_batch(QueueUrl=self.url, Entries=entries)
        return [receipt_handles[int(entry["Id"])] for entry in response.get("Failed", [])]

    def change_visibility(self, receipt_handle: str, timeout: int) -> None:
        self.client.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=timeout
        )

    def extend(self, receipt_handles: Sequence[str], timeout: int) -> list[str]:
        failed: list[str] = []
        for chunk in _chunks(list(receipt_handles)):
            entries = [
                {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": timeout}
                for index, handle in enumerate(chunk)
            ]
            response = self.client.change_message_visibility_batch(
                QueueUrl=self.url, Entries=entries
            )
            failed.extend(chunk[int(entry["Id"])] for entry in response.get("Failed", []))
        return failed
