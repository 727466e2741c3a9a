"""data: the DynamoDB tables (orders, products, idempotency records, the payments ledger)."""

from __future__ import annotations

from troposphere import Equals, GetAtt, If, Ref, Template
from troposphere.dynamodb import (
    AttributeDefinition,
    KeySchema,
    PointInTimeRecoverySpecification,
    SSESpecification,
    Table,
    TimeToLiveSpecification,
)

from flashsale_stacks import names
from flashsale_stacks.common import (
    add_output,
    add_parameter,
    checkov_skip,
    name,
    new_template,
    tags,
)

# table suffix -> (logical id, [(attribute, type, key type)], TTL attribute or None)
TABLE_LAYOUTS: dict[str, tuple[str, list[tuple[str, str, str]], str | None]] = {
    names.ORDERS_TABLE: ("OrdersTable", [("order_id", "S", "HASH")], None),
    names.PRODUCTS_TABLE: ("ProductsTable", [("product_id", "N", "HASH")], None),
    # the Powertools idempotency layout; the API's Idempotency-Key records share it
    names.IDEMPOTENCY_TABLE: ("IdempotencyTable", [("id", "S", "HASH")], "expiration"),
    # the gateway's ledger: one item per charge (an order's charges are one Query), and its
    # idempotency keys (partition key#<key>), which expire through TTL after their retention
    names.PAYMENTS_TABLE: (
        "PaymentsTable",
        [("order_id", "S", "HASH"), ("charge_id", "S", "RANGE")],
        "expires_at",
    ),
}


def build() -> Template:
    template = new_template("flash-sale data: DynamoDB tables (on-demand capacity)")
    pitr = add_parameter(
        template,
        "PointInTimeRecovery",
        "Continuous backups of every table (off for throwaway environments)",
        AllowedValues=["true", "false"],
        Default="true",
    )
    protection = add_parameter(
        template,
        "DeletionProtection",
        "Refuse to delete the tables (turn off before deleting the stack on purpose)",
        AllowedValues=["true", "false"],
        Default="true",
    )
    template.add_condition("PitrEnabled", Equals(Ref(pitr), "true"))
    template.add_condition("Protected", Equals(Ref(protection), "true"))

    for suffix, (logical_id, keys, ttl_attribute) in TABLE_LAYOUTS.items():
        table = Table(
            logical_id,
            TableName=name(suffix),
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                AttributeDefinition(AttributeName=attr, AttributeType=kind)
                for attr, kind, _ in keys
            ],
            KeySchema=[KeySchema(AttributeName=attr, KeyType=key) for attr, _, key in keys],
            SSESpecification=SSESpecification(SSEEnabled=True),
            PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=If("PitrEnabled", True, False)
            ),
            DeletionProtectionEnabled=If("Protected", True, False),
            Tags=tags("data"),
            # deleting the stack deletes the tables unless DeletionProtection is on; a
            # replacement (key schema change) keeps the old table and its orders
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Retain",
        )
        checkov_skip(
            table,
            {
                "CKV_AWS_28": "point-in-time recovery is the PointInTimeRecovery parameter "
                "(default true; only local deploys turn it off), which checkov cannot evaluate",
                "CKV_AWS_119": "encrypted at rest with the AWS owned key (SSESpecification); a "
                "customer key adds a key policy for every role and per-request KMS cost",
            },
        )
        if ttl_attribute:
            table.TimeToLiveSpecification = TimeToLiveSpecification(
                AttributeName=ttl_attribute, Enabled=True
            )
        template.add_resource(table)
        add_output(
            template,
            f"{logical_id}Name",
            Ref(table),
            f"name of the {suffix} table",
            export=names.table_export(suffix, "name"),
        )
        add_output(
            template,
            f"{logical_id}Arn",
            GetAtt(table, "Arn"),
            f"ARN of the {suffix} table",
            export=names.table_export(suffix, "arn"),
        )
    return template
