"""The one place the API's real dependencies are built, from Settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flashsale import bootstrap
from flashsale.settings import Settings
from orders_api.deps import ApiDeps
from orders_api.readiness import AwsReadinessProbe, CachedReadiness
from orders_api.tracing import TracedGateway, TracedPublisher


def build_deps(settings: Settings | None = None, recorder: Any = None) -> ApiDeps:
    """Real adapters (DynamoDB, SNS, the simulated gateway) configured for this process.

    With an X-Ray `recorder`, each payment and each publish is traced as a subsegment (the
    publish hands its trace header on to the order's consumers).
    """
    settings = settings or Settings.from_env()
    payment = bootstrap.payment_deps(settings)
    publisher = bootstrap.publisher(settings)
    if recorder is not None:
        payment = replace(payment, gateway=TracedGateway(payment.gateway, recorder))
        publisher = TracedPublisher(publisher, recorder)
    return ApiDeps(
        settings=settings,
        orders=bootstrap.order_store(settings),
        reserver=bootstrap.reserver(settings),
        products=bootstrap.product_store(settings),
        publisher=publisher,
        idempotency=bootstrap.idempotency_store(settings),
        payment=payment,
        readiness=CachedReadiness(AwsReadinessProbe(settings), settings.ready_cache_seconds),
    )
