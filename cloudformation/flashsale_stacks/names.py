"""The names every stack agrees on: resource name suffixes and cross-stack export keys.

Physical names are `{EnvName}-{suffix}` (the project's resource-name convention) so that several
environments can share one account. Exports are `{EnvName}-{key}`; a producer and its consumers
both use the constants below, so a renamed export breaks at generation time, not at deploy time.
"""

from __future__ import annotations

from typing import Literal

# resource name suffixes ------------------------------------------------------------------------
ORDERS_TABLE = "orders"
PRODUCTS_TABLE = "products"
IDEMPOTENCY_TABLE = "idempotency"
PAYMENTS_TABLE = "payments"
TABLES = (ORDERS_TABLE, PRODUCTS_TABLE, IDEMPOTENCY_TABLE, PAYMENTS_TABLE)

ORDER_TOPIC = "order-events"
ORDER_QUEUE = "order-queue"
ORDER_DLQ = "order-dlq"
PAYMENT_QUEUE = "payment-queue"
PAYMENT_DLQ = "payment-dlq"
PAYMENT_FN = "payment-fn"
PAYMENT_FN_FAILURES = "payment-fn-failures"  # on-failure destination of asynchronous invokes
API = "api"
PROCESSOR = "processor"
ALARM_TOPIC = "alarms"
DASHBOARD = "pipeline"

# message routing (SNS message attribute `route`) ------------------------------------------------
ROUTE_ATTRIBUTE = "route"
ROUTE_ECS = "ecs"
ROUTE_LAMBDA = "lambda"

# the services' contract ---------------------------------------------------------------------------
API_CONTAINER_PORT = 8080
PAYMENT_FN_HANDLER = "payment_fn.handler.lambda_handler"
PAYMENT_FN_RUNTIME = "python3.11"
METRICS_NAMESPACE = "FlashSale"

# export keys (exported as `{EnvName}-{key}`) ------------------------------------------------
VPC_ID = "vpc-id"
PUBLIC_SUBNET_IDS = "public-subnet-ids"  # comma-separated
PRIVATE_SUBNET_IDS = "private-subnet-ids"  # comma-separated
ALB_SECURITY_GROUP_ID = "alb-sg-id"
API_SECURITY_GROUP_ID = "api-sg-id"
PROCESSOR_SECURITY_GROUP_ID = "processor-sg-id"


def table_export(table: str, attribute: Literal["name", "arn"]) -> str:
    return f"{table}-table-{attribute}"


ORDER_TOPIC_ARN = "order-topic-arn"
ORDER_TOPIC_NAME = "order-topic-name"


QueueAttribute = Literal["url", "arn", "name"]


def queue_export(queue: str, attribute: QueueAttribute) -> str:
    return f"{queue}-{attribute}"


PAYMENT_FN_NAME = "payment-fn-name"
PAYMENT_FN_ARN = "payment-fn-arn"
ALB_FULL_NAME = "api-alb-full-name"
API_TARGET_GROUP_FULL_NAME = "api-target-group-full-name"
API_URL = "api-url"
API_CLUSTER_NAME = "api-cluster-name"
API_SERVICE_NAME = "api-service-name"
PROCESSOR_CLUSTER_NAME = "processor-cluster-name"
PROCESSOR_SERVICE_NAME = "processor-service-name"
