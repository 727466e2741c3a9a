"""Readiness of the API's dependencies: the DynamoDB tables it uses and the order topic.

The probe makes exactly the reads the api stack grants for it (DescribeTable on the four
tables, GetTopicAttributes on the topic); CachedReadiness reuses its answer for a few seconds,
so a flood of /ready requests costs AWS no more than one probe per interval. The probe has its
own clients (created once, on first use) with short timeouts and no retries:
a readiness check must answer within a load balancer's health-check timeout, while the service
clients retry patiently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from flashsale import aws
from flashsale.settings import Settings

_PROBE_CONFIG = dict(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1})


def _problem(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


class AwsReadinessProbe:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = aws.session(self.settings).client(
                    service,
                    region_name=self.settings.region,
                    endpoint_url=self.settings.endpoint_url(service),
                    config=Config(region_name=self.settings.region, **_PROBE_CONFIG),
                )
            return self._clients[service]

    def tables(self) -> dict[str, str]:
        s = self.settings
        return {
            "orders_table": s.orders_table,
            "products_table": s.products_table,
            "idempotency_table": s.idempotency_table,
            "payments_table": s.payments_table,
        }

    def _table(self, name: str) -> str | None:
        status = self._client("dynamodb").describe_table(TableName=name)["Table"]["TableStatus"]
        return None if status in ("ACTIVE", "UPDATING") else f"table {name} is {status}"

    def _topic(self) -> str | None:
        if not self.settings.order_topic_arn:
            return "ORDER_TOPIC_ARN is not configured"
        self._client("sns").get_topic_attributes(TopicArn=self.settings.order_topic_arn)
        return None

    def check(self) -> Mapping[str, str | None]:
        results = {name: self._run(self._table, table) for name, table in self.tables().items()}
        results["order_topic"] = self._run(self._topic)
        return results

    @staticmethod
    def _run(probe: Callable[..., str | None], *args: Any) -> str | None:
        try:
            return probe(*args)
        except (BotoCoreError, ClientError) as exc:
            return _problem(exc)


class CachedReadiness:
    """Any readiness probe, its answer reused for `ttl` seconds (one probe at a time)."""

    def __init__(
        self,
        probe: Any,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.probe = probe
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._answer: Mapping[str, str | None] | None = None
        self._expires = 0.0

    def check(self) -> Mapping[str, str | None]:
        with self._lock:
            if self._answer is None or self._clock() >= self._expires:
                self._answer = dict(self.probe.check())
                self._expires = self._clock() + self.ttl
            return self._answer
