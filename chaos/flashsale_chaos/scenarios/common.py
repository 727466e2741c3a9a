"""What every scenario works with, and the small steps several of them share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flashsale_chaos.audit import Auditor
from flashsale_chaos.model import Check, ScenarioResult
from flashsale_chaos.report import say
from flashsale_chaos.traffic import PRODUCT_ID_BASE, OrderSpec
from flashsale_kit.api import Answer, Api
from flashsale_kit.polling import poll
from flashsale_kit.running import RunningStack, StackError

#: Variables a scenario may set for the processor's restart; restoring drops them again.
PROCESSOR_FAULT_VARIABLES = (
    "PAYMENT_ERROR_RATE",
    "PAYMENT_DECLINE_RATE",
    "PAYMENT_LATENCY_SECONDS",
    "PAYMENT_IDEMPOTENCY_KEYS",
)


@dataclass
class Context:
    stack: RunningStack
    api: Api
    auditor: Auditor
    #: Orders a scenario places at most (a bounded load).
    orders: int = 60
    #: How long an audit waits for accepted orders to settle.
    settle_timeout: float = 240.0

    @classmethod
    def connect(cls, stack: RunningStack, orders: int, settle_timeout: float) -> Context:
        """A context on `stack` with its own API client (the caller closes `api`)."""
        return cls(stack, Api(stack.api_url), Auditor(stack), orders, settle_timeout)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    run: Callable[[Context], ScenarioResult]
    #: Rough wall time, for `--list`.
    minutes: float = 1.0
    tags: tuple[str, ...] = field(default_factory=tuple)


def since_now() -> str:
    """An ISO timestamp a little before now: orders created after it belong to the scenario."""
    moment = datetime.now(UTC) - timedelta(seconds=2)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def accepted_ids(answers: Iterable[Answer]) -> list[str]:
    return [a.order_id for a in answers if a.accepted and a.order_id]


def answers_check(answers: Sequence[Answer], allowed: set[int] = frozenset({202})) -> Check:
    """Every request got one of the `allowed` answers (never a 5xx, never silence)."""
    codes: dict[str, int] = {}
    for answer in answers:
        key = str(answer.status_code) if answer.status_code is not None else "no answer"
        codes[key] = codes.get(key, 0) + 1
    unexpected = {code: n for code, n in codes.items() if code not in {str(c) for c in allowed}}
    return Check(
        f"answers were {'/'.join(str(c) for c in sorted(allowed))}",
        not unexpected,
        ", ".join(f"{n}x {code}" for code, n in sorted(codes.items())),
    )


def processing_now(ctx: Context, order_ids: Iterable[str]) -> list[str]:
    rows = ctx.auditor.tables.orders(order_ids)
    return [oid for oid, row in rows.items() if row.status == "processing"]


def wait_until_paying(ctx: Context, order_ids: Sequence[str], at_least: int) -> list[str]:
    """Wait until at least `at_least` of the orders are mid-payment; those order ids."""
    paying = poll(lambda: (p := processing_now(ctx, order_ids)) and len(p) >= at_least and p, 30)
    if not paying:
        raise StackError(f"fewer than {at_least} orders started paying within 30 s")
    return paying


def restart_processor(ctx: Context, **settings: str) -> str:
    """Restart the processor (SIGTERM, then start) with these settings on top of the caller's
    environment; how the old one ended ("stopped" or "killed")."""
    what = ", ".join(f"{k}={v}" for k, v in settings.items()) or "the caller's settings"
    say(f"restarting the processor with {what}")
    return ctx.stack.restart("processor", env=settings)


def restore_processor(ctx: Context) -> None:
    """Back to the caller's settings (what `make up` started it with)."""
    ctx.stack.stop("processor")
    ctx.stack.localaws("start", "processor", unset=PROCESSOR_FAULT_VARIABLES)


def new_products(ctx: Context, label: str, stocks: Iterable[int]) -> dict[int, int]:
    """Fresh products for the scenario `label`: id -> stock."""
    return ctx.auditor.tables.new_products(f"chaos {label}", stocks, PRODUCT_ID_BASE)


def specs(
    products: Sequence[int], count: int, routes: Sequence[str], **fields: int
) -> list[OrderSpec]:
    return [
        OrderSpec(routes[i % len(routes)], products[i % len(products)], **fields)
        for i in range(count)
    ]


def queue_counts(ctx: Context, queue_name: str) -> dict[str, int]:
    """A queue's visible and in-flight message counts ({} when it does not exist)."""
    url = ctx.stack.queue_url(queue_name)
    return {} if url is None else ctx.stack.queue_counts(url)


def send_to_queue(ctx: Context, queue_name: str, body: str, route: str | None = None) -> None:
    """Put a body straight onto a queue: what an SQS redelivery or a poison message looks like."""
    sqs = ctx.stack.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = {}
    if route:
        attributes = {"route": {"DataType": "String", "StringValue": route}}
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)


def error_result(name: str, exc: Exception) -> ScenarioResult:
    return ScenarioResult(name, error=f"{type(exc).__name__}: {exc}")
