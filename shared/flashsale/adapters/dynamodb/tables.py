"""Table definitions matching the shared naming conventions, for tests and local setup.
(Deployed tables come from the CloudFormation data stack; keep the two in step.)"""

from __future__ import annotations

from typing import Any

from flashsale.settings import Settings


def table_definitions(settings: Settings) -> list[dict[str, Any]]:
    """CreateTable arguments for the orders, products, idempotency and payments tables."""

    def table(name: str, *keys: tuple[str, str, str]) -> dict[str, Any]:
        return {
            "TableName": name,
            "KeySchema": [{"AttributeName": n, "KeyType": kind} for n, _, kind in keys],
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t, _ in keys],
            "BillingMode": "PAY_PER_REQUEST",
        }

    return [
        table(settings.orders_table, ("order_id", "S", "HASH")),
        table(settings.products_table, ("product_id", "N", "HASH")),
        table(settings.idempotency_table, ("id", "S", "HASH")),
        table(settings.payments_table, ("order_id", "S", "HASH"), ("charge_id", "S", "RANGE")),
    ]


def create_tables(client: Any, settings: Settings) -> list[str]:
    """Create the tables that do not exist yet (and their TTL); returns those created."""
    existing = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page.get("TableNames", []))
    created = []
    for definition in table_definitions(settings):
        if definition["TableName"] in existing:
            continue
        client.create_table(**definition)
        client.get_waiter("table_exists").wait(
            TableName=definition["TableName"], WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        created.append(definition["TableName"])
    for table, attribute in ttl_attributes(settings).items():
        if table in created:
            client.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
            )
    return created


def ttl_attributes(settings: Settings) -> dict[str, str]:
    """Table -> its TTL attribute: idempotency records, and the gateway's idempotency keys."""
    return {settings.idempotency_table: "expiration", settings.payments_table: "expires_at"}
