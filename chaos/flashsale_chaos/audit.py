"""The audit closing every scenario, read straight from the tables and the dead-letter queues:

- every accepted order ends `completed` or `failed`, or its message sits in a DLQ (accounted);
- each order's charges in the gateway's ledger match its status (flashsale_chaos.money: one
  approved charge for a completed order, none for a failed one, never two);
- stock is conserved for every product the scenario touched:
  initial = remaining + units of the orders that did not fail (a failed order must have given
  its units back), counting every order written for those products, answered or not;
- no order is left `pending`/`processing` without a dead-lettered message after a bounded wait.
`make audit` (flashsale_chaos.stack_audit) applies the same rules to the whole stack.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flashsale.adapters.dynamodb.ledger import KEY_SORT, DynamoDbPaymentLedger, charge_entry
from flashsale.events import InvalidEvent, decode
from flashsale_chaos.model import Check, Outcome
from flashsale_chaos.money import (
    APPROVED,
    ChargeRow,
    OrderRow,
    order_violations,
    stock_violations,
)
from flashsale_chaos.stack import Stack, say

TERMINAL = frozenset({"completed", "failed"})
POLL_SECONDS = 1.0
DLQ_PEEK_EVERY = 10.0
STOCK_GRACE = 15.0


def _order_row(item: dict[str, Any]) -> OrderRow:
    quantities: dict[int, int] = {}
    for entry in item.get("items", {}).get("L", []):
        fields = entry["M"]
        pid = int(fields["product_id"]["N"])
        quantities[pid] = quantities.get(pid, 0) + int(fields["quantity"]["N"])
    return OrderRow(
        order_id=item["order_id"]["S"],
        status=item.get("status", {}).get("S", ""),
        stock_released=bool(item.get("stock_released", {}).get("BOOL", False)),
        quantities=quantities,
        payment_id=item.get("payment_id", {}).get("S"),
        updated_at=item.get("updated_at", {}).get("S", ""),
    )


def _charge_row(item: dict[str, Any]) -> ChargeRow:
    entry = charge_entry(item)
    return ChargeRow(entry.order_id, entry.charge_id, entry.status)


class Tables:
    """Direct reads of the pipeline's tables and queues (strongly consistent)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.settings = stack.settings

    @property
    def ddb(self) -> Any:
        return self.stack.client("dynamodb")

    def orders(self, order_ids: Iterable[str]) -> dict[str, OrderRow]:
        ids = list(dict.fromkeys(order_ids))
        found: dict[str, OrderRow] = {}
        table = self.settings.orders_table
        for start in range(0, len(ids), 100):
            request: dict[str, Any] = {
                table: {
                    "Keys": [{"order_id": {"S": oid}} for oid in ids[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = self.ddb.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(table, []):
                    row = _order_row(item)
                    found[row.order_id] = row
                request = answer.get("UnprocessedKeys") or {}
        return found

    def orders_touching(self, product_ids: Iterable[int], since: str) -> dict[str, OrderRow]:
        """Every order created since `since` (ISO) that holds one of `product_ids`."""
        wanted = set(product_ids)
        items = self._scan(
            self.settings.orders_table,
            FilterExpression="created_at >= :since",
            ExpressionAttributeValues={":since": {"S": since}},
        )
        rows = (_order_row(item) for item in items)
        return {row.order_id: row for row in rows if wanted & set(row.quantities)}

    def stock(self, product_ids: Iterable[int]) -> dict[int, int]:
        stock = {}
        for pid in product_ids:
            item = self.ddb.get_item(
                TableName=self.settings.products_table,
                Key={"product_id": {"N": str(pid)}},
                ConsistentRead=True,
            ).get("Item", {})
            stock[pid] = int(item.get("stock", {}).get("N", 0))
        return stock

    def charges(self, order_ids: Iterable[str]) -> dict[str, list[ChargeRow]]:
        """Each order's charges in the gateway's ledger (one Query per order)."""

        ledger = DynamoDbPaymentLedger(self.ddb, self.settings.payments_table)

        def of(order_id: str) -> list[ChargeRow]:
            return [ChargeRow(e.order_id, e.charge_id, e.status) for e in ledger.charges(order_id)]

        ids = list(dict.fromkeys(order_ids))
        with ThreadPoolExecutor(8) as pool:
            return dict(zip(ids, pool.map(of, ids), strict=True))

    def ledger(self) -> dict[str, list[ChargeRow]]:
        """Every charge in the ledger, per order (a scan; idempotency-key items left out)."""
        found: dict[str, list[ChargeRow]] = {}
        for item in self._scan(
            self.settings.payments_table,
            FilterExpression="charge_id <> :key",
            ExpressionAttributeValues={":key": {"S": KEY_SORT}},
        ):
            row = _charge_row(item)
            found.setdefault(row.order_id, []).append(row)
        return found

    def all_orders(self) -> dict[str, OrderRow]:
        rows = (_order_row(item) for item in self._scan(self.settings.orders_table))
        return {row.order_id: row for row in rows}

    def products(self) -> dict[int, tuple[int, int | None]]:
        """product id -> (stock now, initial stock or None when it was never recorded)."""
        found = {}
        for item in self._scan(self.settings.products_table):
            initial = item.get("initial_stock", {}).get("N")
            found[int(item["product_id"]["N"])] = (
                int(item.get("stock", {}).get("N", 0)),
                int(initial) if initial is not None else None,
            )
        return found

    def _scan(self, table: str, **kwargs: Any) -> Iterable[dict[str, Any]]:
        pages = self.ddb.get_paginator("scan").paginate(
            TableName=table, ConsistentRead=True, PaginationConfig={"PageSize": 500}, **kwargs
        )
        for page in pages:
            yield from page.get("Items", [])

    def queue_url(self, name: str) -> str | None:
        try:
            return self.stack.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        except Exception:
            return None

    def dead_letters(self) -> dict[str, str]:
        """order_id -> DLQ name, for every OrderPlaced sitting in a DLQ (peeked, not taken)."""
        env = self.settings.env_name
        found: dict[str, str] = {}
        for name in (f"{env}-order-dlq", f"{env}-payment-dlq"):
            url = self.queue_url(name)
            if url is not None:
                for order_id in self.peek(url):
                    found[order_id] = name
        return found

    def peek(self, url: str, limit: int = 2000) -> list[str]:
        """Order ids of a queue's visible messages; each is made visible again right after."""
        sqs = self.stack.client("sqs")
        seen: list[str] = []
        handles: list[str] = []
        try:
            while len(handles) < limit:
                batch = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
                ).get("Messages", [])
                if not batch:
                    break
                for message in batch:
                    handles.append(message["ReceiptHandle"])
                    order_id = _order_id(message.get("Body", ""))
                    if order_id:
                        seen.append(order_id)
        finally:
            for start in range(0, len(handles), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + 10])
                ]
                sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        return seen

    def queue_depth(self, name: str) -> dict[str, int]:
        url = self.queue_url(name)
        if url is None:
            return {}
        attributes = self.stack.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {key: int(value) for key, value in attributes.items()}


def _order_id(body: str) -> str | None:
    try:
        return decode(body).order_id
    except InvalidEvent:
        try:  # a well-formed envelope with a bad field still names its order
            data = json.loads(body).get("data", {})
            return data.get("order_id") if isinstance(data.get("order_id"), str) else None
        except (ValueError, AttributeError):
            return None


class Auditor:
    def __init__(self, stack: Stack) -> None:
        self.tables = Tables(stack)

    def settle(
        self, accepted: Iterable[str], timeout: float
    ) -> tuple[dict[str, OrderRow], dict[str, str]]:
        """Poll until every accepted order is final or dead-lettered, or `timeout` passes."""
        ids = list(dict.fromkeys(accepted))
        rows: dict[str, OrderRow] = {}
        dead: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        next_peek = time.monotonic() + DLQ_PEEK_EVERY
        while True:
            open_ids = [oid for oid in ids if oid not in rows or rows[oid].status not in TERMINAL]
            rows.update(self.tables.orders(open_ids))
            open_ids = [
                oid for oid in open_ids if rows.get(oid) is None or rows[oid].status not in TERMINAL
            ]
            if open_ids and (time.monotonic() >= next_peek or time.monotonic() >= deadline):
                dead = self.tables.dead_letters()
                next_peek = time.monotonic() + DLQ_PEEK_EVERY
            if not [oid for oid in open_ids if oid not in dead] or time.monotonic() >= deadline:
                return rows, dead
            time.sleep(POLL_SECONDS)

    def audit(
        self,
        scenario: str,
        accepted: Iterable[str],
        products: Mapping[int, int],
        since: str,
        timeout: float,
        checks: Iterable[Check] = (),
    ) -> Outcome:
        accepted = list(dict.fromkeys(accepted))
        say(f"{scenario}: auditing {len(accepted)} accepted order(s), waiting <= {timeout:.0f} s")
        rows, dead = self.settle(accepted, timeout)
        outcome = Outcome(scenario, accepted=len(accepted), checks=list(checks))
        for order_id in accepted:
            row = rows.get(order_id)
            status = row.status if row else "missing"
            if status == "completed":
                outcome.completed += 1
            elif status == "failed":
                outcome.failed += 1
            elif order_id in dead:
                outcome.in_dlq += 1
            else:
                outcome.stuck += 1
        written = self.tables.orders_touching(products, since)
        outcome.stock_ok, stock_detail = self._stock_balanced(products, since, written)
        audited = {**rows, **written}
        charges = self.tables.charges(audited)
        outcome.max_charges = max(
            (sum(c.status == APPROVED for c in found) for found in charges.values()), default=0
        )
        money = order_violations(audited, charges)
        unanswered_open = sorted(
            oid
            for oid, row in written.items()
            if oid not in set(accepted) and row.status != "failed"
        )
        stuck_ids = [
            oid
            for oid in accepted
            if (rows.get(oid) is None or rows[oid].status not in TERMINAL) and oid not in dead
        ]
        outcome.checks += [
            Check("stock conserved", outcome.stock_ok, stock_detail),
            Check(
                "every order written was accepted or failed",
                not unanswered_open,
                f"{len(unanswered_open)} open without a 202: {unanswered_open[:3]}"
                if unanswered_open
                else f"{len(written)} order(s) written",
            ),
        ]
        if stuck_ids:
            sample = {oid: rows[oid].status if oid in rows else "missing" for oid in stuck_ids[:3]}
            outcome.checks.append(Check("no order stuck", False, f"e.g. {sample}"))
        outcome.checks.append(
            Check(
                "charges match order status",
                not money,
                "; ".join(str(v) for v in money[:5])
                + (f" (+{len(money) - 5})" if len(money) > 5 else "")
                if money
                else f"{len(audited)} order(s), {sum(map(len, charges.values()))} charge(s)",
            )
        )
        return outcome

    def _stock_balanced(
        self, products: Mapping[int, int], since: str, written: dict[str, OrderRow]
    ) -> tuple[bool, str]:
        deadline = time.monotonic() + STOCK_GRACE
        while True:
            remaining = self.tables.stock(products)
            wrong = stock_violations(products, remaining, written.values())
            if not wrong:
                held = sum(remaining.get(pid, 0) for pid in products)
                sold = sum(products.values()) - held
                return True, f"{len(products)} product(s), {sold} unit(s) held by orders"
            if time.monotonic() >= deadline:
                return False, "; ".join(str(v) for v in wrong)
            time.sleep(POLL_SECONDS)
            written = self.tables.orders_touching(products, since)
