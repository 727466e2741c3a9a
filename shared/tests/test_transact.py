"""The retry policy every TransactWriteItems shares, as the order and reservation stores use it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from flashsale.adapters.dynamodb import DynamoDbOrderStore
from flashsale.adapters.dynamodb.reservations import DynamoDbReservationStore
from flashsale.domain.model import Order, OrderItem, Route
from flashsale.ports import StoreBusy


class ConflictingClient:
    """TransactWriteItems cancelled by TransactionConflict `conflicts` times, then applied."""

    def __init__(self, conflicts: int):
        self.conflicts = conflicts
        self.requests: list[dict[str, Any]] = []

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if len(self.requests) <= self.conflicts:
            reasons = [{"Code": "TransactionConflict"} for _ in request["TransactItems"]]
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return {}


def order() -> Order:
    return Order.new(7, [OrderItem(1, 2, Decimal("2.00"))], Route.ECS)


def reserve(client: ConflictingClient, retries: int) -> None:
    store = DynamoDbReservationStore(
        client, "o", "p", conflict_retries=retries, sleep=lambda _: None
    )
    assert store.reserve([order()]) is None


def release(client: ConflictingClient, retries: int) -> None:
    store = DynamoDbOrderStore(client, "o", "p", conflict_retries=retries, sleep=lambda _: None)
    held = order()
    store.get = lambda _order_id: held  # type: ignore[method-assign]
    assert store.release_stock(held.order_id) is True


@pytest.mark.parametrize("write", [reserve, release], ids=["reserve", "release_stock"])
def test_conflicts_are_retried_up_to_the_stores_conflict_retries(write) -> None:
    client = ConflictingClient(conflicts=3)
    write(client, retries=3)
    assert len(client.requests) == 4
    assert all(r["TransactItems"] == client.requests[0]["TransactItems"] for r in client.requests)


@pytest.mark.parametrize("write", [reserve, release], ids=["reserve", "release_stock"])
def test_a_store_that_keeps_conflicting_is_busy_and_writes_nothing(write) -> None:
    client = ConflictingClient(conflicts=10)
    with pytest.raises(StoreBusy):
        write(client, retries=2)
    assert len(client.requests) == 3


def test_every_attempt_of_a_reservation_carries_the_same_request_token() -> None:
    client = ConflictingClient(conflicts=2)
    reserve(client, retries=2)
    tokens = {r.get("ClientRequestToken") for r in client.requests}
    assert len(tokens) == 1 and None not in tokens
