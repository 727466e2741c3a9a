"""Every environment variable the services read is read here, and nowhere else."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

LOCAL_ENV = "local"
LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_ADMIN_API_KEY = "local-admin-key"
#: The local stack's "test card": this customer's charges are always declined (e2e tests, demos).
LOCAL_DECLINE_CUSTOMER_ID = 4_000_000_002
#: PAYMENT_DECLINE_CUSTOMER_IDS=none turns the local default off.
_NONE = "none"

# botocore's AWS_ENDPOINT_URL_<SERVICE> suffix for the client names whose service id differs.
_ENDPOINT_SUFFIX = {
    "logs": "CLOUDWATCH_LOGS",
    "monitoring": "CLOUDWATCH",
    "events": "EVENTBRIDGE",
    "stepfunctions": "SFN",
    "apigateway": "API_GATEWAY",
    "elbv2": "ELASTIC_LOAD_BALANCING_V2",
}


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    return float(raw) if raw else default


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    return int(raw) if raw else default


def _str(environ: Mapping[str, str], name: str) -> str | None:
    raw = environ.get(name, "").strip()
    return raw or None


def _int_set(environ: Mapping[str, str], name: str, default: frozenset[int]) -> frozenset[int]:
    """A comma-separated list of integers; unset or empty -> `default`, `none` -> empty."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() == _NONE:
        return frozenset()
    values = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.add(int(part))
        except ValueError:
            raise ValueError(f"{name}: {part!r} is not an integer") from None
    return frozenset(values)


def _idempotency_keys(environ: Mapping[str, str], env_name: str) -> bool:
    """PAYMENT_IDEMPOTENCY_KEYS: turning the keys off is a local test's fault, never a setting."""
    enabled = _bool(environ.get("PAYMENT_IDEMPOTENCY_KEYS"), True)
    if not enabled and env_name != LOCAL_ENV:
        raise ValueError(
            f"PAYMENT_IDEMPOTENCY_KEYS=false is refused outside ENV_NAME={LOCAL_ENV}: "
            "it lets a retried payment charge twice"
        )
    return enabled


@dataclass(frozen=True)
class Settings:
    env_name: str = LOCAL_ENV
    region: str = "us-east-1"
    account_id: str | None = None
    orders_table: str = "local-orders"
    products_table: str = "local-products"
    idempotency_table: str = "local-idempotency"
    payments_table: str = "local-payments"
    order_topic_arn: str | None = None
    order_queue_url: str | None = None
    order_dlq_url: str | None = None
    payment_queue_url: str | None = None
    payment_dlq_url: str | None = None
    default_route: str = "ecs"
    payment_latency_seconds: float = 3.0
    payment_concurrency: int = 1
    payment_decline_rate: float = 0.0
    payment_error_rate: float = 0.0
    #: customers whose charges the simulated gateway always declines (like a sandbox's test cards)
    payment_decline_customer_ids: frozenset[int] = frozenset()
    #: share of charges recorded by the gateway whose answer is lost (an unknown outcome)
    payment_lost_answer_rate: float = 0.0
    #: how long the gateway replays a repeated idempotency key's first result
    payment_key_retention_seconds: int = 86_400
    #: consumers charge with a key derived from the order; false (local only) lets a retry
    #: charge again: the negative control of the money audit
    payment_idempotency_keys: bool = True
    processor_concurrency: int = 10
    admin_api_key: str | None = None
    xray_enabled: bool = False
    xray_daemon_address: str | None = None
    service_name: str = "flashsale"
    log_level: str = "INFO"
    idempotency_ttl_seconds: int = 86_400
    idempotency_in_flight_seconds: int = 60
    catalog_cache_seconds: float = 5.0
    aws_max_pool_connections: int = 50
    publish_batching: bool = True
    publish_senders: int = 2
    #: how long the API's /ready reuses its last answer (the probe makes five AWS reads)
    ready_cache_seconds: float = 5.0
    #: group commit of stock reservations (off: one write per order) and its batch limit
    reservation_coalescing: bool = True
    reservation_batch_limit: int = 50
    #: (suffix, url) pairs: "" is AWS_ENDPOINT_URL, "DYNAMODB" is AWS_ENDPOINT_URL_DYNAMODB, ...
    endpoint_urls: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        env_name = _str(env, "ENV_NAME") or LOCAL_ENV
        region = _str(env, "AWS_REGION") or _str(env, "AWS_DEFAULT_REGION") or cls.region
        endpoints = tuple(
            sorted(
                (key.removeprefix("AWS_ENDPOINT_URL").lstrip("_"), value.strip())
                for key, value in env.items()
                if key.startswith("AWS_ENDPOINT_URL") and value.strip()
            )
        )
        global_endpoint = dict(endpoints).get("")
        # Resource URLs/ARNs are derivable when the account is known (always so on LocalStack).
        account_id = _str(env, "AWS_ACCOUNT_ID") or (LOCAL_ACCOUNT_ID if global_endpoint else None)

        def arn(name: str) -> str | None:
            return f"arn:aws:sns:{region}:{account_id}:{name}" if account_id else None

        def queue_url(name: str) -> str | None:
            if global_endpoint and account_id:
                return f"{global_endpoint.rstrip('/')}/queue/{region}/{account_id}/{name}"
            if account_id:
                return f"https://sqs.{region}.amazonaws.com/{account_id}/{name}"
            return None

        admin_key = _str(env, "ADMIN_API_KEY")
        if admin_key is None and env_name == LOCAL_ENV:
            admin_key = LOCAL_ADMIN_API_KEY
        local_declines = (
            frozenset({LOCAL_DECLINE_CUSTOMER_ID}) if env_name == LOCAL_ENV else frozenset()
        )
        return cls(
            env_name=env_name,
            region=region,
            account_id=account_id,
            orders_table=_str(env, "ORDERS_TABLE") or f"{env_name}-orders",
            products_table=_str(env, "PRODUCTS_TABLE") or f"{env_name}-products",
            idempotency_table=_str(env, "IDEMPOTENCY_TABLE") or f"{env_name}-idempotency",
            payments_table=_str(env, "PAYMENTS_TABLE") or f"{env_name}-payments",
            order_topic_arn=_str(env, "ORDER_TOPIC_ARN") or arn(f"{env_name}-order-events"),
            order_queue_url=_str(env, "ORDER_QUEUE_URL") or queue_url(f"{env_name}-order-queue"),
            order_dlq_url=_str(env, "ORDER_DLQ_URL") or queue_url(f"{env_name}-order-dlq"),
            payment_queue_url=_str(env, "PAYMENT_QUEUE_URL")
            or queue_url(f"{env_name}-payment-queue"),
            payment_dlq_url=_str(env, "PAYMENT_DLQ_URL") or queue_url(f"{env_name}-payment-dlq"),
            default_route=(_str(env, "DEFAULT_ROUTE") or cls.default_route).lower(),
            payment_latency_seconds=_float(
                env, "PAYMENT_LATENCY_SECONDS", cls.payment_latency_seconds
            ),
            payment_concurrency=_int(env, "PAYMENT_CONCURRENCY", cls.payment_concurrency),
            payment_decline_rate=_float(env, "PAYMENT_DECLINE_RATE", cls.payment_decline_rate),
            payment_error_rate=_float(env, "PAYMENT_ERROR_RATE", cls.payment_error_rate),
            payment_decline_customer_ids=_int_set(
                env, "PAYMENT_DECLINE_CUSTOMER_IDS", local_declines
            ),
            payment_lost_answer_rate=_float(
                env, "PAYMENT_LOST_ANSWER_RATE", cls.payment_lost_answer_rate
            ),
            payment_key_retention_seconds=_int(
                env, "PAYMENT_KEY_RETENTION_SECONDS", cls.payment_key_retention_seconds
            ),
            payment_idempotency_keys=_idempotency_keys(env, env_name),
            processor_concurrency=_int(env, "PROCESSOR_CONCURRENCY", cls.processor_concurrency),
            admin_api_key=admin_key,
            xray_enabled=_bool(env.get("AWS_XRAY_SDK_ENABLED"), cls.xray_enabled),
            xray_daemon_address=_str(env, "AWS_XRAY_DAEMON_ADDRESS"),
            service_name=_str(env, "SERVICE_NAME")
            or _str(env, "POWERTOOLS_SERVICE_NAME")
            or cls.service_name,
            log_level=(_str(env, "LOG_LEVEL") or cls.log_level).upper(),
            idempotency_ttl_seconds=_int(
                env, "IDEMPOTENCY_TTL_SECONDS", cls.idempotency_ttl_seconds
            ),
            idempotency_in_flight_seconds=_int(
                env, "IDEMPOTENCY_IN_FLIGHT_SECONDS", cls.idempotency_in_flight_seconds
            ),
            catalog_cache_seconds=_float(env, "CATALOG_CACHE_SECONDS", cls.catalog_cache_seconds),
            aws_max_pool_connections=_int(
                env, "AWS_MAX_POOL_CONNECTIONS", cls.aws_max_pool_connections
            ),
            publish_batching=_bool(env.get("PUBLISH_BATCHING"), cls.publish_batching),
            publish_senders=_int(env, "PUBLISH_SENDERS", cls.publish_senders),
            ready_cache_seconds=_float(env, "READY_CACHE_SECONDS", cls.ready_cache_seconds),
            reservation_coalescing=_bool(
                env.get("RESERVATION_COALESCING"), cls.reservation_coalescing
            ),
            reservation_batch_limit=_int(
                env, "RESERVATION_BATCH_LIMIT", cls.reservation_batch_limit
            ),
            endpoint_urls=endpoints,
        )

    @property
    def is_local(self) -> bool:
        return self.env_name == LOCAL_ENV

    def endpoint_url(self, service: str) -> str | None:
        """AWS_ENDPOINT_URL_<SERVICE> for `service`, else AWS_ENDPOINT_URL, else None (AWS)."""
        endpoints = dict(self.endpoint_urls)
        suffix = _ENDPOINT_SUFFIX.get(service, service.upper().replace("-", "_"))
        return endpoints.get(suffix) or endpoints.get("")
