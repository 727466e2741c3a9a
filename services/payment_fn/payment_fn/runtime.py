"""What the handler works with, wired once per execution environment on first use.

Module import stays cheap (no clients, no sessions): the stores, the gateway, the idempotency
layer and the thread pool are built by the first invocation. `deps_factory` is the seam unit
tests replace (then call `reset()`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from flashsale import aws, tracing
from flashsale.domain.model import PaymentTerms
from flashsale.events import OrderPlaced
from flashsale.services.payments import PaymentDeps, PaymentOutcome, process_payment
from flashsale.settings import Settings
from payment_fn.idempotency import GroupedDynamoDBPersistenceLayer

#: Prefix of this function's keys in the shared idempotency table (the API uses its own).
IDEMPOTENCY_KEY_PREFIX = "payment_fn.pay"
#: Records of a batch worked on at once per payment slot: while some records wait for the
#: gateway, others are marked `processing` or have their outcome written, so an invocation's
#: DynamoDB calls overlap its payments (with batches larger than the slots).
RECORDS_PER_SLOT = 2


def _real_deps(settings: Settings) -> PaymentDeps:
    from flashsale import bootstrap  # the real adapters: only needed outside unit tests

    deps = bootstrap.payment_deps(settings)
    # each charge a subsegment (of the order's trace inside a record's segment); free when off
    return replace(deps, gateway=tracing.TracedGateway(deps.gateway))


deps_factory: Callable[[Settings], PaymentDeps] = _real_deps


@dataclass
class Runtime:
    settings: Settings
    deps: PaymentDeps
    idempotency: IdempotencyConfig
    persistence: GroupedDynamoDBPersistenceLayer
    #: pay(order=pay_request(event)) -> outcome dict; idempotent on order_id.
    pay: Callable[..., dict[str, Any]]
    #: RECORDS_PER_SLOT x PAYMENT_CONCURRENCY threads: how many records of one batch are
    #: worked on at once (the gateway pays PAYMENT_CONCURRENCY of them at a time).
    executor: ThreadPoolExecutor
    #: How long the wiring took (part of a cold start, reported by the handler).
    setup_ms: float


def outcome_dict(outcome: PaymentOutcome) -> dict[str, Any]:
    """JSON-safe, so Powertools can store it as the idempotent response."""
    return {
        "order_id": outcome.order_id,
        "status": str(outcome.status),
        "charged": outcome.charged,
        "duplicate": outcome.duplicate,
        "payment_id": outcome.payment_id,
        "failure_reason": outcome.failure_reason,
    }


def pay_request(event: OrderPlaced) -> dict[str, Any]:
    """`pay`'s argument: the order's id (the idempotency key) and its terms as the event says,
    JSON-safe like everything Powertools hashes."""
    return {
        "order_id": event.order_id,
        "customer_id": event.customer_id,
        "total": str(event.total),
    }


def _mark_replayed(response: dict[str, Any], _record: Any) -> dict[str, Any]:
    """Idempotency hook: a response served from the store is a duplicate delivery."""
    return {**response, "duplicate": True, "charged": False}


def build(settings: Settings, deps: PaymentDeps) -> Runtime:
    started = time.perf_counter()
    config = IdempotencyConfig(
        event_key_jmespath="order_id",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_ttl_seconds,
        response_hook=_mark_replayed,
        # a redelivery to this environment is answered from memory, without a DynamoDB call
        use_local_cache=True,
    )
    # the records of a batch are written together (one transaction for concurrent writes)
    persistence = GroupedDynamoDBPersistenceLayer(
        table_name=settings.idempotency_table,
        boto3_client=aws.client("dynamodb", settings),
    )

    @idempotent_function(
        data_keyword_argument="order",
        persistence_store=persistence,
        config=config,
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )
    def pay(order: dict[str, Any]) -> dict[str, Any]:
        terms = PaymentTerms(int(order["customer_id"]), Decimal(order["total"]))
        return outcome_dict(process_payment(order["order_id"], deps, terms))

    executor = ThreadPoolExecutor(
        max_workers=RECORDS_PER_SLOT * max(1, settings.payment_concurrency),
        thread_name_prefix="payment",
    )
    return Runtime(
        settings=settings,
        deps=deps,
        idempotency=config,
        persistence=persistence,
        pay=pay,
        executor=executor,
        setup_ms=(time.perf_counter() - started) * 1000,
    )


_runtime: Runtime | None = None
_lock = threading.Lock()


def get() -> Runtime:
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                started = time.perf_counter()
                settings = Settings.from_env()
                runtime = build(settings, deps_factory(settings))
                runtime.setup_ms = (time.perf_counter() - started) * 1000
                _runtime = runtime
    return _runtime


def reset() -> None:
    """Forget the wiring (tests that swap `deps_factory` or the environment)."""
    global _runtime
    with _lock:
        if _runtime is not None:
            _runtime.executor.shutdown(wait=True)
        _runtime = None
