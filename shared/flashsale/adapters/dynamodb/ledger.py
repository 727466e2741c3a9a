"""The simulated gateway's ledger (`{env}-payments`, hash order_id, range charge_id).

- a charge: (order_id, `ch_...`), one item per charge, so an order's charges are one Query;
- an idempotency key: (`key#<key>`, `key`), naming the charge it was first used for, with
  `expires_at` (epoch seconds, the table's TTL attribute). It lives in a partition of its own,
  so a per-order Query never returns it, and its range key does not start with `ch_`.

A keyed charge is one transaction: put the key (only if absent or expired) and the charge.
Concurrent charges share one TransactWriteItems (group commit): payments that end together
(a batch's, a processor's slots) are recorded in one call. A refused key put means the key was
used: its first charge is returned, nothing is written, and the others' charges are unaffected.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from flashsale.adapters.dynamodb.codec import deserialize, error_code, serialize, value
from flashsale.adapters.dynamodb.group_commit import GroupCommit
from flashsale.domain.model import ChargeStatus, utc_now
from flashsale.ports import LedgerEntry

KEY_PARTITION_PREFIX = "key#"
KEY_SORT = "key"
#: A key refused, then found expired when read: write again at most this often.
EXPIRED_RETRIES = 5


def key_partition(idempotency_key: str) -> str:
    return f"{KEY_PARTITION_PREFIX}{idempotency_key}"


class DynamoDbPaymentLedger:
    def __init__(self, client: Any, table: str):
        self._client = client
        self.table = table
        self._commit = GroupCommit(client, put_key=("order_id", "charge_id"))

    def record(self, entry: LedgerEntry, key_expires_at: float | None = None) -> LedgerEntry:
        charge = {
            "TableName": self.table,
            "Item": _charge_item(entry),
            "ConditionExpression": "attribute_not_exists(charge_id)",
        }
        if entry.idempotency_key is None:
            self._client.put_item(**charge)
            return entry
        key_put = {
            "Put": {
                "TableName": self.table,
                "Item": _key_item(entry, key_expires_at),
                "ConditionExpression": "attribute_not_exists(order_id) OR expires_at < :now",
                "ExpressionAttributeValues": {":now": value(Decimal(str(time.time())))},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        for _ in range(EXPIRED_RETRIES + 1):
            # conflicts are retried by the group commit; StoreBusy when they persist
            reasons = self._commit.refusal([key_put, {"Put": charge}])
            if reasons is None:
                return entry
            if reasons[0].get("Code") != "ConditionalCheckFailed":
                raise RuntimeError(f"charge {entry.charge_id} refused: {reasons}")
            first = reasons[0].get("Item")
            if first:
                return _key_entry(first)[0]
            found = self._key_record(entry.idempotency_key)
            if found is not None:  # else it expired meanwhile: write again
                return found[0]
        raise RuntimeError(f"idempotency key {entry.idempotency_key!r} kept expiring")

    def by_key(self, idempotency_key: str, now: float) -> LedgerEntry | None:
        found = self._key_record(idempotency_key)
        if found is None or found[1] < now:
            return None
        return found[0]

    def _key_record(self, idempotency_key: str) -> tuple[LedgerEntry, float] | None:
        item = self._client.get_item(
            TableName=self.table,
            Key={"order_id": value(key_partition(idempotency_key)), "charge_id": value(KEY_SORT)},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else _key_entry(item)

    def charges(self, order_id: str) -> list[LedgerEntry]:
        entries: list[LedgerEntry] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "order_id = :o",
            "ExpressionAttributeValues": {":o": value(order_id)},
            "ConsistentRead": True,
        }
        while True:
            response = self._client.query(**kwargs)
            entries += [charge_entry(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return sorted(entries, key=lambda e: (e.created_at, e.charge_id))

    def refund(self, order_id: str, charge_id: str) -> bool:
        try:
            self._client.update_item(
                TableName=self.table,
                Key={"order_id": value(order_id), "charge_id": value(charge_id)},
                UpdateExpression="SET #s = :refunded, refunded_at = :now",
                ConditionExpression="#s = :approved",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":refunded": value(str(ChargeStatus.REFUNDED)),
                    ":approved": value(str(ChargeStatus.APPROVED)),
                    ":now": value(utc_now()),
                },
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True


#: what a charge item and a key record both hold of the charge, beside its ids
_CHARGE_FIELDS = ("status", "amount", "customer_id", "created_at")


def _charge_item(entry: LedgerEntry) -> dict[str, Any]:
    return serialize(
        {
            "order_id": entry.order_id,
            "charge_id": entry.charge_id,
            **_charge_fields(entry),
            "idempotency_key": entry.idempotency_key,
        }
    )


def charge_entry(item: dict[str, Any]) -> LedgerEntry:
    """A charge item as a LedgerEntry (audits reading the table use it too)."""
    data = deserialize(item)
    return _entry(data, data["order_id"], data["charge_id"], data.get("idempotency_key"))


def _key_item(entry: LedgerEntry, expires_at: float | None) -> dict[str, Any]:
    return serialize(
        {
            "order_id": key_partition(entry.idempotency_key or ""),
            "charge_id": KEY_SORT,
            "charge": entry.charge_id,
            "for_order": entry.order_id,
            **_charge_fields(entry),
            "expires_at": Decimal(str(round(time.time() if expires_at is None else expires_at, 3))),
        }
    )


def _key_entry(item: dict[str, Any]) -> tuple[LedgerEntry, float]:
    """The charge a key record names, and when the key expires."""
    data = deserialize(item)
    key = data["order_id"].removeprefix(KEY_PARTITION_PREFIX)
    entry = _entry(data, data["for_order"], data["charge"], key)
    return entry, float(data["expires_at"])


def _charge_fields(entry: LedgerEntry) -> dict[str, Any]:
    return {field: getattr(entry, field) for field in _CHARGE_FIELDS}


def _entry(
    data: dict[str, Any], order_id: str, charge_id: str, idempotency_key: str | None
) -> LedgerEntry:
    return LedgerEntry(
        order_id=order_id,
        charge_id=charge_id,
        status=data["status"],
        amount=Decimal(data["amount"]),
        customer_id=int(data["customer_id"]),
        created_at=data["created_at"],
        idempotency_key=idempotency_key,
    )
