"""Counting charges per order in the simulated gateway's ledger table (hash order_id, range
charge_id: one item per charge)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def count_charges(
    dynamodb: Any, table: str, order_ids: Iterable[str], workers: int = 4
) -> dict[str, int]:
    paginator = dynamodb.get_paginator("query")

    def count(order_id: str) -> int:
        pages = paginator.paginate(
            TableName=table,
            KeyConditionExpression="order_id = :o",
            ExpressionAttributeValues={":o": {"S": order_id}},
            Select="COUNT",
            ConsistentRead=True,
        )
        return sum(page["Count"] for page in pages)

    ids = list(dict.fromkeys(order_ids))
    with ThreadPoolExecutor(workers) as pool:
        return dict(zip(ids, pool.map(count, ids), strict=True))
