"""X-Ray tracing for the API, on only when AWS_XRAY_SDK_ENABLED is set (Settings.xray_enabled).

A segment per request (the SDK's Flask middleware), a subsegment per AWS call (botocore patch)
and one around each payment, so a trace shows where a sync order's seconds go. Segments go over
UDP to AWS_XRAY_DAEMON_ADDRESS (locally the platform's relay).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask

from flashsale import tracing as flashsale_tracing
from flashsale.domain.model import Charge
from flashsale.ports import PaymentGateway
from flashsale.settings import Settings


class TracedGateway:
    """A PaymentGateway that records each charge as an X-Ray subsegment."""

    def __init__(self, inner: PaymentGateway, recorder: Any) -> None:
        self.inner = inner
        self.recorder = recorder

    def charge(self, order_id: str, amount: Decimal, customer_id: int) -> Charge:
        with self.recorder.in_subsegment("payment-gateway") as subsegment:
            if subsegment is not None:
                subsegment.put_annotation("order_id", order_id)
            charge = self.inner.charge(order_id, amount, customer_id)
            if subsegment is not None:
                subsegment.put_annotation("charge_status", str(charge.status))
            return charge


def service_name(settings: Settings) -> str:
    return f"{settings.env_name}-orders-api"


def default_recorder(settings: Settings) -> Any:
    """The SDK's global recorder, configured for this service (once per worker process)."""
    from aws_xray_sdk.core import xray_recorder

    flashsale_tracing.configure(settings, service=service_name(settings))
    return xray_recorder


def instrument(app: Flask, recorder: Any) -> None:
    from aws_xray_sdk.ext.flask.middleware import XRayMiddleware

    XRayMiddleware(app, recorder)
