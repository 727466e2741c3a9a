"""TransactWriteItems with the retry policy every multi-item write shares."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from flashsale.adapters.dynamodb.codec import error_code
from flashsale.ports import StoreBusy

#: DynamoDB's limits for one TransactWriteItems request
MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


def transact(
    client: Any,
    actions: list[dict[str, Any]],
    retries: int = 8,
    sleep: Callable[[float], None] = time.sleep,
    token: str | None = None,
) -> list[dict[str, Any]] | None:
    """Run the transaction; None on success, else the cancellation reasons (one per action).

    TransactionConflict (another transaction touching the same item) and throttling are retried
    with jittered backoff; after `retries` attempts StoreBusy is raised. `token` is DynamoDB's
    ClientRequestToken: a request repeated with it (the SDK's own retries) is applied once.
    """
    extra = {"ClientRequestToken": token} if token else {}
    for attempt in range(retries + 1):
        try:
            client.transact_write_items(TransactItems=actions, **extra)
            return None
        except ClientError as exc:
            code = error_code(exc)
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                codes = {r.get("Code") for r in reasons}
                if "ConditionalCheckFailed" in codes or not (
                    codes & {"TransactionConflict", "ThrottlingError"}
                ):
                    return reasons
            elif code not in {"TransactionInProgressException", "ThrottlingException"}:
                raise
        if attempt < retries:
            sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))
    raise StoreBusy("transaction kept conflicting with concurrent writes")


class OrderTables:
    """The orders and products tables, written together in transactions (the order stores'
    shared base): conflicts are retried `conflict_retries` times, see `transact`."""

    def __init__(
        self,
        client: Any,
        orders_table: str,
        products_table: str,
        conflict_retries: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._client = client
        self.orders_table = orders_table
        self.products_table = products_table
        self.conflict_retries = conflict_retries
        self._sleep = sleep

    def _transact(
        self, actions: list[dict[str, Any]], token: str | None = None
    ) -> list[dict[str, Any]] | None:
        return transact(self._client, actions, self.conflict_retries, self._sleep, token)
