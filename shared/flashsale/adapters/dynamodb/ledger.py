"""The simulated gateway's charge ledger: one item per charge (hash order_id, range charge_id)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flashsale.adapters.dynamodb.codec import deserialize, serialize, value
from flashsale.ports import LedgerEntry


class DynamoDbPaymentLedger:
    def __init__(self, client: Any, table: str):
        self._client = client
        self.table = table

    def first_charge(self, order_id: str) -> LedgerEntry | None:
        charges = self.charges(order_id)
        return charges[0] if charges else None

    def record(self, entry: LedgerEntry) -> None:
        self._client.put_item(
            TableName=self.table,
            Item=serialize(
                {
                    "order_id": entry.order_id,
                    "charge_id": entry.charge_id,
                    "status": entry.status,
                    "amount": entry.amount,
                    "customer_id": entry.customer_id,
                    "created_at": entry.created_at,
                }
            ),
            ConditionExpression="attribute_not_exists(charge_id)",
        )

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
            for item in response.get("Items", []):
                data = deserialize(item)
                entries.append(
                    LedgerEntry(
                        order_id=data["order_id"],
                        charge_id=data["charge_id"],
                        status=data["status"],
                        amount=Decimal(data["amount"]),
                        customer_id=int(data["customer_id"]),
                        created_at=data["created_at"],
                    )
                )
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return sorted(entries, key=lambda e: (e.created_at, e.charge_id))
