"""Group commit: concurrent conditional writes of different orders share one TransactWriteItems.

Each caller submits the actions of one unit (e.g. an order's outcome: its conditional Update, or
a decline's Update plus its stock returns) and waits; one caller at a time sends what is queued
(`flashsale.coalescing`: the leader hand-over), at most 100 actions and no item twice (DynamoDB
refuses a transaction that touches one item twice). A cancelled transaction names the
actions whose condition failed: those units answer False, the others are sent again without
them (split on cancellation), so one unit's refusal never decides another's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from flashsale.adapters.dynamodb.transact import MAX_TRANSACTION_ITEMS as MAX_ACTIONS
from flashsale.adapters.dynamodb.transact import transact
from flashsale.coalescing import Coalescer, Waiter
from flashsale.ports import StoreBusy

CONFLICT_RETRIES = 8


class _Unit(Waiter):
    __slots__ = ("actions", "keys", "ok", "reasons")

    def __init__(self, actions: list[dict[str, Any]], keys: frozenset[str]) -> None:
        super().__init__()
        self.actions = actions
        self.keys = keys
        self.ok = False
        #: a refused unit: the cancellation reasons of its own actions, in order
        self.reasons: list[dict[str, Any]] = []


def _item_keys(actions: list[dict[str, Any]], put_key: tuple[str, ...]) -> frozenset[str]:
    """The items the actions touch: the Key of an Update, Delete or ConditionCheck; for a Put,
    its Item's `put_key` attributes."""
    keys = set()
    for action in actions:
        (body,) = action.values()
        if "Key" in body:
            key = body["Key"]
        elif put_key and "Item" in body and all(name in body["Item"] for name in put_key):
            key = {name: body["Item"][name] for name in put_key}
        else:
            raise ValueError("group commit takes actions that name their item's Key")
        keys.add(json.dumps([body["TableName"], key], sort_keys=True))
    return frozenset(keys)


class GroupCommit(Coalescer[_Unit]):
    def __init__(
        self,
        client: Any,
        sleep: Callable[[float], None] = time.sleep,
        put_key: tuple[str, ...] = (),
    ) -> None:
        """`put_key`: the key attributes that identify a Put's item (Puts are refused without)."""
        super().__init__()
        self._client = client
        self._sleep = sleep
        self._put_key = put_key
        #: transactions sent (what a benchmark compares with the units written)
        self.transactions = 0

    def submit(self, actions: list[dict[str, Any]]) -> bool:
        """Write `actions` atomically (with other callers' units); False when one of their
        conditions failed (nothing of them written). Raises StoreBusy or the client's error."""
        return self.refusal(actions) is None

    def refusal(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Like `submit`: None once written, else the cancellation reasons of `actions` (one
        per action, in order, with the Item of a ReturnValuesOnConditionCheckFailure)."""
        if not 0 < len(actions) <= MAX_ACTIONS:
            raise ValueError(f"a unit holds 1..{MAX_ACTIONS} actions")
        unit = _Unit(actions, _item_keys(actions, self._put_key))
        self._run(unit)
        if unit.error is not None:
            raise unit.error
        return None if unit.ok else unit.reasons

    def _take(self) -> list[_Unit]:
        """Queued units for one transaction: at most MAX_ACTIONS, no item twice."""
        batch: list[_Unit] = []
        seen: set[str] = set()
        size = 0
        for unit in list(self._queue):
            if size + len(unit.actions) > MAX_ACTIONS or unit.keys & seen:
                continue
            batch.append(unit)
            seen |= unit.keys
            size += len(unit.actions)
        for unit in batch:
            self._queue.remove(unit)
        return batch

    def _send(self, batch: Sequence[_Unit]) -> None:
        self._commit(batch)
        for unit in batch:
            unit.settle()

    def _commit(self, batch: Sequence[_Unit]) -> None:
        pending = list(batch)
        while pending:
            actions = [action for unit in pending for action in unit.actions]
            self.transactions += 1
            reasons = transact(self._client, actions, CONFLICT_RETRIES, self._sleep)
            if reasons is None:
                for unit in pending:
                    unit.ok = True
                return
            refused = self._refused(pending, reasons)
            if not refused:
                codes = sorted({str(r.get("Code")) for r in reasons} - {"None"})
                raise StoreBusy(f"group commit cancelled without a failed condition: {codes}")
            for unit in refused:
                unit.ok = False
            pending = [unit for unit in pending if unit not in refused]

    @staticmethod
    def _refused(pending: list[_Unit], reasons: list[dict[str, Any]]) -> list[_Unit]:
        """The units owning an action whose condition failed, each given its own reasons."""
        refused, index = [], 0
        for unit in pending:
            own = reasons[index : index + len(unit.actions)]
            if any(reason.get("Code") == "ConditionalCheckFailed" for reason in own):
                unit.reasons = own
                refused.append(unit)
            index += len(unit.actions)
        return refused
