"""IAM policy documents, least-privilege by construction.

`Resource: "*"` is only written for the actions listed in WILDCARD_ONLY_ACTIONS: AWS offers no
resource-level permission for them. tests/unit/test_templates_policies.py enforces this.
"""

from __future__ import annotations

from typing import Any

from troposphere.iam import Policy, Role

from flashsale_stacks import names
from flashsale_stacks.common import table_arn, table_index_arn

# Actions that do not support resource-level permissions, so "*" is the narrowest resource.
WILDCARD_ONLY_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",  # narrowed with a cloudwatch:namespace condition instead
    }
)

XRAY_WRITE_ACTIONS = [
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
]

# What the code does to each table (shared/flashsale/adapters/dynamodb), one list per job.
# TransactWriteItems is authorized as the item actions it contains (Put, Update).
ORDERS_PLACE = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]  # API
ORDERS_DECIDE = ["dynamodb:GetItem", "dynamodb:UpdateItem"]  # transitions, stock release
STOCK_MOVE = ["dynamodb:UpdateItem"]  # reserve (API) and release (everyone that fails orders)
CATALOG_READ = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Scan"]  # API
IDEMPOTENCY_RECORDS = [
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
]
#: The payments ledger: only what charges (the API's sync path, processor, Lambda) holds this.
LEDGER_CHARGE = ["dynamodb:PutItem", "dynamodb:Query"]
#: The API's /ready probe (orders_api.readiness).
READINESS_DESCRIBE = ["dynamodb:DescribeTable"]

SQS_CONSUME = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
]


def statement(
    actions: list[str], resources: list[Any], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = {"Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        result["Condition"] = condition
    return result


def table_statement(actions: list[str], *tables: str, on_indexes: bool = False) -> dict[str, Any]:
    """`actions` on the named tables of this environment (or on their indexes)."""
    arn = table_index_arn if on_indexes else table_arn
    return statement(actions, [arn(table) for table in tables])


def ledger_statements() -> list[dict[str, Any]]:
    """Charging: record charges and read them back (by order, or through any ledger index)."""
    return [
        table_statement(LEDGER_CHARGE, names.PAYMENTS_TABLE),
        table_statement(["dynamodb:Query"], names.PAYMENTS_TABLE, on_indexes=True),
    ]


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def xray_statement() -> dict[str, Any]:
    return statement(XRAY_WRITE_ACTIONS, ["*"])


def put_metric_data_statement(namespace: str) -> dict[str, Any]:
    return statement(
        ["cloudwatch:PutMetricData"],
        ["*"],
        {"StringEquals": {"cloudwatch:namespace": namespace}},
    )


def service_role(
    logical_id: str,
    service: str,
    policy_name: str,
    statements: list[dict[str, Any]],
    role_name: Any = None,
) -> Role:
    """A role assumable by one AWS service principal, with one inline policy."""
    role = Role(
        logical_id,
        AssumeRolePolicyDocument=document(
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
            }
        ),
        Policies=[Policy(PolicyName=policy_name, PolicyDocument=document(*statements))],
    )
    if role_name is not None:
        role.RoleName = role_name
    return role
