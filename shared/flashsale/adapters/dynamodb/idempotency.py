"""The API's Idempotency-Key records, in the Powertools idempotency table.

Items use the Powertools layout (hash `id`, `status` INPROGRESS|COMPLETED, TTL `expiration` in
epoch seconds, `in_progress_expiration` in epoch ms) under their own `api#` key prefix, so they
never collide with the payment Lambda's records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from flashsale.adapters.dynamodb.codec import deserialize, error_code, value
from flashsale.ports import IdempotencyConflict, StoredResponse

KEY_PREFIX = "api#"
IN_PROGRESS = "INPROGRESS"
COMPLETED = "COMPLETED"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


@dataclass(eq=False)
class DynamoDbIdempotencyStore:
    client: Any
    table: str
    ttl_seconds: int = 86_400
    in_flight_seconds: int = 60
    clock: Callable[[], float] = time.time

    def begin(self, key: str, fingerprint: str) -> StoredResponse | None:
        now = self.clock()
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "id": value(KEY_PREFIX + key),
                    "status": value(IN_PROGRESS),
                    "fingerprint": value(fingerprint),
                    "expiration": value(int(now + self.ttl_seconds)),
                    "in_progress_expiration": value(int((now + self.in_flight_seconds) * 1000)),
                },
                ConditionExpression="attribute_not_exists(id) OR expiration < :now OR "
                "(#status = :in_progress AND in_progress_expiration < :now_ms)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":now": value(int(now)),
                    ":now_ms": value(int(now * 1000)),
                    ":in_progress": value(IN_PROGRESS),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            existing = exc.response.get("Item") or self._get(key)
        if not existing:  # expired and deleted in between: a rare race, report as in flight
            raise IdempotencyConflict(key, IdempotencyConflict.IN_FLIGHT)
        record = deserialize(existing)
        if record.get("fingerprint") != fingerprint:
            raise IdempotencyConflict(key, IdempotencyConflict.MISMATCH)
        if record.get("status") != COMPLETED:
            raise IdempotencyConflict(key, IdempotencyConflict.IN_FLIGHT)
        return StoredResponse(int(record["status_code"]), json.loads(record["response"]))

    def complete(self, key: str, status_code: int, body: Any) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"id": value(KEY_PREFIX + key)},
            UpdateExpression="SET #status = :done, status_code = :code, #response = :body, "
            "expiration = :exp REMOVE in_progress_expiration",
            ExpressionAttributeNames={"#status": "status", "#response": "response"},
            ExpressionAttributeValues={
                ":done": value(COMPLETED),
                ":code": value(int(status_code)),
                ":body": value(json.dumps(body, default=_json_default, separators=(",", ":"))),
                ":exp": value(int(self.clock() + self.ttl_seconds)),
            },
        )

    def abandon(self, key: str) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"id": value(KEY_PREFIX + key)},
                ConditionExpression="#status = :in_progress",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":in_progress": value(IN_PROGRESS)},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def _get(self, key: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table, Key={"id": value(KEY_PREFIX + key)}, ConsistentRead=True
        )
        return response.get("Item")
