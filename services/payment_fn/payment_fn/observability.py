"""Powertools Logger, Tracer and Metrics for the payment Lambda.

Powertools' own environment variables win (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE,
POWERTOOLS_LOG_LEVEL, POWERTOOLS_TRACE_DISABLED, ...): the project's defaults are only filled in
where they are unset, and no option is passed explicitly (an explicit option would override them).
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from flashsale import tracing

POWERTOOLS_DEFAULTS = {
    "POWERTOOLS_SERVICE_NAME": "payment",
    "POWERTOOLS_METRICS_NAMESPACE": "FlashSale",
}
for _name, _value in POWERTOOLS_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

logger = Logger()
# Powertools turns tracing off outside Lambda and with POWERTOOLS_TRACE_DISABLED; with
# AWS_XRAY_SDK_ENABLED=false (or no trace header) the X-Ray SDK records nothing.
# botocore only (DynamoDB calls as subsegments): patch_all would import requests, sqlite3 and
# other clients no invocation uses, a cost on every cold start
tracer = Tracer(patch_modules=["botocore"])
if not tracer.disabled:
    # records carrying an order's trace header are paid in a segment of that trace
    tracing.join_lambda_traces(active=True)
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
