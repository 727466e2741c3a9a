"""Group commit against moto: concurrent units share transactions, a refused unit decides only
itself, and no transaction touches one item twice."""

from __future__ import annotations

import threading
import time

import pytest

from flashsale.adapters.dynamodb.group_commit import GroupCommit

from .moto_support import SETTINGS, dynamodb_with_tables, moto_aws

TABLE = SETTINGS.products_table


def put(ddb, pid: int, stock: int) -> None:
    item = {"product_id": {"N": str(pid)}, "stock": {"N": str(stock)}}
    ddb.put_item(TableName=TABLE, Item=item)


def take(pid: int, quantity: int) -> dict:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"product_id": {"N": str(pid)}},
            "UpdateExpression": "SET stock = stock - :q",
            "ConditionExpression": "stock >= :q",
            "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
        }
    }


class SlowFirst:
    """Holds the first transaction until `others` units are queued behind it."""

    def __init__(self, inner, commit: list[GroupCommit], others: int):
        self.inner, self.commit, self.others = inner, commit, others
        self.sizes: list[int] = []

    def transact_write_items(self, TransactItems):
        if not self.sizes:
            for _ in range(200):
                if len(self.commit[0]._queue) >= self.others:
                    break
                threading.Event().wait(0.01)
        self.sizes.append(len(TransactItems))
        return self.inner.transact_write_items(TransactItems=TransactItems)


@pytest.fixture
def ddb():
    with moto_aws():
        yield dynamodb_with_tables()


def stock(ddb, pid: int) -> int:
    item = ddb.get_item(TableName=TABLE, Key={"product_id": {"N": str(pid)}})["Item"]
    return int(item["stock"]["N"])


def test_a_lone_unit_goes_out_at_once_and_a_failed_condition_is_false(ddb):
    put(ddb, 1, 5)
    commit = GroupCommit(ddb)
    assert commit.submit([take(1, 3)])
    assert not commit.submit([take(1, 3)])
    assert stock(ddb, 1) == 2 and commit.transactions == 2


def held_commit(ddb, products: int) -> tuple[SlowFirst, GroupCommit]:
    """`products` products of 1 unit each, and a group commit whose first transaction waits
    until the other products' units are queued behind it."""
    for pid in range(1, products + 1):
        put(ddb, pid, 1)
    holder: list[GroupCommit] = []
    client = SlowFirst(ddb, holder, others=products - 1)
    holder.append(GroupCommit(client))
    return client, holder[0]


def run_together(target, wants: dict[int, int]) -> None:
    threads = [threading.Thread(target=target, args=item) for item in wants.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)


def test_concurrent_units_share_transactions_and_a_refusal_decides_only_itself(ddb):
    client, commit = held_commit(ddb, 6)
    results: dict[int, bool] = {}
    wants = {1: 1, 2: 1, 3: 5, 4: 1, 5: 1, 6: 1}  # product 3 has 1 unit: refused
    run_together(lambda p, q: results.update({p: commit.submit([take(p, q)])}), wants)
    assert results == {1: True, 2: True, 3: False, 4: True, 5: True, 6: True}
    assert [stock(ddb, p) for p in range(1, 7)] == [0, 0, 1, 0, 0, 0]
    assert len(client.sizes) < len(wants)  # fewer transactions than units
    assert max(client.sizes) == 5  # 5 queued behind the first: sent together, then split


def test_a_refused_unit_reads_its_own_reasons_in_a_shared_transaction(ddb):
    client, commit = held_commit(ddb, 5)
    refusals: dict[int, list | None] = {}

    def submit(pid: int, quantity: int) -> None:
        action = take(pid, quantity)
        action["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        refusals[pid] = commit.refusal([take(pid + 10, 0), action] if pid == 4 else [action])

    for pid in range(6, 16):
        put(ddb, pid, 1)
    run_together(submit, {1: 1, 2: 1, 3: 1, 4: 5, 5: 1})  # product 4 has 1 unit: refused
    assert {pid: r is None for pid, r in refusals.items()} == {
        1: True,
        2: True,
        3: True,
        4: False,
        5: True,
    }
    first, own = refusals[4]  # its two actions, in order, whatever their place in the batch
    assert first.get("Code") == "None"
    assert own["Code"] == "ConditionalCheckFailed"
    assert own["Item"]["product_id"] == {"N": "4"}
    assert max(client.sizes) == 5  # the refused unit was sent with three others


def test_two_units_on_one_item_never_share_a_transaction(ddb):
    put(ddb, 1, 2)
    holder: list[GroupCommit] = []
    client = SlowFirst(ddb, holder, others=2)
    commit = GroupCommit(client)
    holder.append(commit)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(commit.submit([take(1, 1)])))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [False, True, True] and stock(ddb, 1) == 0
    assert max(client.sizes) == 1


class HandOver:
    """Holds the first transaction until a second unit is queued; the second transaction then
    waits (up to 5 s) for the first unit's caller to have returned."""

    def __init__(self, inner, commit: list[GroupCommit]):
        self.inner, self.commit = inner, commit
        self.calls = 0
        self.first_caller_back = threading.Event()
        self.returned_before_second: bool | None = None

    def transact_write_items(self, TransactItems):
        self.calls += 1
        if self.calls == 1:
            deadline = time.monotonic() + 5
            while not self.commit[0]._queue and time.monotonic() < deadline:
                time.sleep(0.005)
        elif self.calls == 2:
            self.returned_before_second = self.first_caller_back.wait(5)
        return self.inner.transact_write_items(TransactItems=TransactItems)


def test_a_sender_returns_once_its_own_unit_is_written(ddb):
    """The caller that sent the first transaction does not also send the next one: it hands
    the sending to the caller waiting behind it and returns."""
    put(ddb, 1, 1)
    put(ddb, 2, 1)
    holder: list[GroupCommit] = []
    client = HandOver(ddb, holder)
    commit = GroupCommit(client)
    holder.append(commit)
    results: dict[int, bool] = {}

    def first() -> None:
        results[1] = commit.submit([take(1, 1)])
        client.first_caller_back.set()

    threads = [threading.Thread(target=first)]
    threads[0].start()
    deadline = time.monotonic() + 5
    while client.calls < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    threads.append(
        threading.Thread(target=lambda: results.update({2: commit.submit([take(2, 1)])}))
    )
    threads[1].start()
    for thread in threads:
        thread.join(10)

    assert results == {1: True, 2: True}
    assert [stock(ddb, 1), stock(ddb, 2)] == [0, 0]
    assert client.calls == 2 and client.returned_before_second is True
