"""The one place that wires real adapters from Settings. Each function returns a per-process
singleton for given settings (clients, caches, the gateway's payment slots are shared)."""

from __future__ import annotations

import functools
import os
import random

from flashsale import aws
from flashsale.adapters.dynamodb import (
    DynamoDbIdempotencyStore,
    DynamoDbOrderStore,
    DynamoDbPaymentLedger,
    DynamoDbProductStore,
)
from flashsale.adapters.simulated_gateway import SimulatedPaymentGateway
from flashsale.adapters.sns import BatchingSnsPublisher, SnsEventPublisher
from flashsale.ports import EventPublisher
from flashsale.services.payments import PaymentDeps
from flashsale.services.reservations import Reserver
from flashsale.settings import Settings


def _per_process(factory):
    """lru_cache keyed by settings and pid, so a forked worker builds its own objects."""
    cached = functools.lru_cache(maxsize=16)(lambda settings, pid: factory(settings))

    @functools.wraps(factory)
    def wrapper(settings: Settings | None = None):
        return cached(settings or aws.default_settings(), os.getpid())

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


@_per_process
def order_store(settings: Settings) -> DynamoDbOrderStore:
    return DynamoDbOrderStore(
        aws.client("dynamodb", settings), settings.orders_table, settings.products_table
    )


@_per_process
def reserver(settings: Settings) -> Reserver:
    """Order placement with group commit (RESERVATION_COALESCING, RESERVATION_BATCH_LIMIT)."""
    return Reserver(
        order_store(settings).reservations,
        batch_limit=settings.reservation_batch_limit,
        coalesce=settings.reservation_coalescing,
    )


@_per_process
def product_store(settings: Settings) -> DynamoDbProductStore:
    return DynamoDbProductStore(
        aws.client("dynamodb", settings),
        settings.products_table,
        cache_seconds=settings.catalog_cache_seconds,
    )


@_per_process
def idempotency_store(settings: Settings) -> DynamoDbIdempotencyStore:
    return DynamoDbIdempotencyStore(
        aws.client("dynamodb", settings),
        settings.idempotency_table,
        ttl_seconds=settings.idempotency_ttl_seconds,
        in_flight_seconds=settings.idempotency_in_flight_seconds,
    )


@_per_process
def payment_ledger(settings: Settings) -> DynamoDbPaymentLedger:
    return DynamoDbPaymentLedger(aws.client("dynamodb", settings), settings.payments_table)


@_per_process
def publisher(settings: Settings) -> EventPublisher:
    """PublishBatch-coalescing publisher unless PUBLISH_BATCHING=false."""
    client = aws.client("sns", settings)
    if not settings.order_topic_arn:
        raise ValueError("ORDER_TOPIC_ARN is not set and cannot be derived")
    if settings.publish_batching:
        return BatchingSnsPublisher(
            client, settings.order_topic_arn, senders=settings.publish_senders
        )
    return SnsEventPublisher(client, settings.order_topic_arn)


@_per_process
def gateway(settings: Settings) -> SimulatedPaymentGateway:
    """The simulated gateway; PAYMENT_CONCURRENCY slots shared by the whole process."""
    return SimulatedPaymentGateway(
        payment_ledger(settings),
        latency=settings.payment_latency_seconds,
        concurrency=max(1, settings.payment_concurrency),
        decline_rate=settings.payment_decline_rate,
        error_rate=settings.payment_error_rate,
        lost_answer_rate=settings.payment_lost_answer_rate,
        decline_customer_ids=settings.payment_decline_customer_ids,
        key_retention_seconds=settings.payment_key_retention_seconds,
        rng=random.Random(),
    )


def payment_deps(settings: Settings | None = None) -> PaymentDeps:
    settings = settings or aws.default_settings()
    return PaymentDeps(
        orders=order_store(settings),
        gateway=gateway(settings),
        idempotency_keys=settings.payment_idempotency_keys,
    )


def reset() -> None:
    """Drop every cached adapter and client (tests)."""
    for factory in (
        order_store,
        reserver,
        product_store,
        idempotency_store,
        payment_ledger,
        publisher,
        gateway,
    ):
        factory.cache_clear()
    aws.reset()
