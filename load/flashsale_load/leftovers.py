"""Measurements that do not overlap: each starts on empty queues, and what an earlier one left
queued is failed with its stock released, so no consumer pays it during the next measurement.

Releasing goes through the product's own rules: the queued messages are purged, then every
`pending` order of those queues' routes is moved `pending -> failed` with a conditional write
(a consumer that picked the message up first wins, and pays it) and its reservation given back
once. Failing them also stops the processor's sweeper from re-publishing them later as orders
whose message was lost. Orders already `processing` are being paid: they are left to finish,
and the wait for them is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from flashsale.domain.model import OrderStatus, utc_now
from flashsale_kit.polling import poll
from flashsale_kit.running import RunningStack
from flashsale_kit.tables import Tables

#: which route's orders each work queue carries (SNS filter policies on `route`)
QUEUE_ROUTES: dict[str, str] = {"order-queue": "ecs", "payment-queue": "lambda"}
#: the failure reason written on orders released here
REASON = "discarded_leftover_load"


@dataclass(frozen=True)
class Leftovers:
    """What a clean start found and did."""

    #: queue -> messages still queued when the wait for them ended
    queued: dict[str, int] = field(default_factory=dict)
    #: pending orders failed with their stock released
    failed: int = 0
    #: orders still being paid when the wait for them ended
    processing: int = 0
    waited_s: float = 0.0

    @property
    def clean(self) -> bool:
        """True when the queues emptied on their own: nothing was released."""
        return not any(self.queued.values()) and not self.failed

    def describe(self) -> str:
        if self.clean:
            return f"queues empty after {self.waited_s:.0f} s"
        queued = ", ".join(f"{queue} {depth}" for queue, depth in self.queued.items() if depth)
        text = (
            f"still queued after {self.waited_s:.0f} s ({queued or 'none'}): "
            f"{self.failed} pending orders failed, stock released"
        )
        return text + (f"; {self.processing} still being paid" if self.processing else "")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "waited_s": round(self.waited_s, 1), "clean": self.clean}


def depths(stack: RunningStack, queues: Iterable[str]) -> dict[str, int]:
    return {queue: stack.queue_depth(stack.queues[queue]) for queue in queues}


def start_on_empty_queues(
    stack: RunningStack,
    wait_s: float,
    queues: Sequence[str] | None = None,
    settle_s: float = 60.0,
) -> Leftovers:
    """Wait up to `wait_s` for `queues` (default: both work queues) to empty on their own; then
    purge what is left, fail its pending orders with their stock released, and wait up to
    `settle_s` for the queues to read empty and the orders being paid to finish."""
    names = list(queues or stack.queues)
    started = time.monotonic()
    empty = poll(lambda: not any(depths(stack, names).values()), wait_s, 1.0)
    waited = time.monotonic() - started
    if empty:
        return Leftovers({name: 0 for name in names}, waited_s=waited)
    queued = depths(stack, names)
    routes = [QUEUE_ROUTES[name] for name, depth in queued.items() if depth]
    cutoff = utc_now()
    for name, depth in queued.items():
        if depth:
            purge(stack, name)
    failed = fail_pending_orders(stack, routes, before=cutoff)

    def settled() -> bool:
        return not any(depths(stack, names).values()) and not count_orders(
            stack, "processing", routes, before=cutoff
        )

    poll(settled, settle_s, 2.0)
    busy = count_orders(stack, "processing", routes, before=cutoff)
    return Leftovers(queued, failed, busy, waited)


def purge(stack: RunningStack, queue: str, timeout: float = 60.0) -> int:
    """Drop every message of `queue`; returns how many there were. SQS allows one purge a
    minute per queue: within that minute the visible messages are received and deleted."""
    url = stack.queues[queue]
    depth = stack.queue_depth(url)
    try:
        stack.client("sqs").purge_queue(QueueUrl=url)
    except ClientError as exc:
        if "PurgeQueueInProgress" not in exc.response.get("Error", {}).get("Code", ""):
            raise
        poll(lambda: not _delete_some(stack, url), timeout, 0.0)
    poll(lambda: stack.queue_depth(url) == 0, timeout, 0.5)
    return depth


def _delete_some(stack: RunningStack, url: str) -> int:
    """Receive up to 10 visible messages and delete them; returns how many."""
    messages = (
        stack.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        .get("Messages", [])
    )
    if messages:
        stack.client("sqs").delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
    return len(messages)


def discard_backlog(stack: RunningStack, queue: str, since: str | None = None) -> int:
    """Drop the queued messages; with `since` (ISO time), also fail the pending orders of the
    queue's route created since then, with their stock released."""
    depth = purge(stack, queue)
    if since is not None:
        failed = fail_pending_orders(stack, [QUEUE_ROUTES[queue]], since=since)
        print(f"  failed {failed} discarded orders (stock released)", flush=True)
    return depth


def order_ids(
    stack: RunningStack,
    status: str,
    routes: Sequence[str],
    since: str | None = None,
    before: str | None = None,
) -> Iterator[str]:
    """Ids of the orders in `status` on `routes` created in [since, before]."""
    if not routes:
        return
    values: dict[str, Any] = {":status": {"S": status}}
    values.update({f":r{i}": {"S": route} for i, route in enumerate(routes)})
    names = {"#s": "status", "#r": "route"}
    terms = ["#s = :status", f"#r IN ({', '.join(f':r{i}' for i in range(len(routes)))})"]
    if since is not None:
        terms.append("created_at >= :since")
        values[":since"] = {"S": since}
    if before is not None:
        terms.append("created_at <= :before")
        values[":before"] = {"S": before}
    items = Tables(stack).scan(
        stack.settings.orders_table,
        ProjectionExpression="order_id",
        FilterExpression=" AND ".join(terms),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
    for item in items:
        yield item["order_id"]["S"]


def count_orders(
    stack: RunningStack, status: str, routes: Sequence[str], before: str | None = None
) -> int:
    return sum(1 for _ in order_ids(stack, status, routes, before=before))


def fail_pending_orders(
    stack: RunningStack,
    routes: Sequence[str],
    since: str | None = None,
    before: str | None = None,
) -> int:
    """Move the `pending` orders of `routes` created in [since, before] to `failed` with their
    stock released, in one transaction each (the API's own compensation); returns how many
    moved (an order a consumer took first is left to it)."""
    from flashsale import bootstrap

    orders = bootstrap.order_store(stack.settings)
    failed = 0
    for order_id in list(order_ids(stack, "pending", routes, since, before)):
        if orders.fail_and_release(
            order_id, {OrderStatus.PENDING}, failed_at=utc_now(), failure_reason=REASON
        ):
            failed += 1
    return failed
