"""The one place the API's real dependencies are built, from Settings."""

from __future__ import annotations

from flashsale import bootstrap
from flashsale.settings import Settings
from orders_api.deps import ApiDeps
from orders_api.readiness import AwsReadinessProbe


def build_deps(settings: Settings | None = None) -> ApiDeps:
    """Real adapters (DynamoDB, SNS, the simulated gateway) configured for this process."""
    settings = settings or Settings.from_env()
    return ApiDeps(
        settings=settings,
        orders=bootstrap.order_store(settings),
        products=bootstrap.product_store(settings),
        publisher=bootstrap.publisher(settings),
        idempotency=bootstrap.idempotency_store(settings),
        payment=bootstrap.payment_deps(settings),
        readiness=AwsReadinessProbe(settings),
    )
