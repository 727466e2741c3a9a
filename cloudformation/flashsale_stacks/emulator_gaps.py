"""What a local emulator's CloudFormation leaves out, applied through the service API instead.

moto's CloudFormation creates DynamoDB tables but ignores TimeToLiveSpecification, so after a
local deploy of the data stack the TTL settings the template declares are set directly.
"""

from __future__ import annotations

import json
from typing import Any


def declared_ttl(template_body: str, env_name: str) -> dict[str, str]:
    """Table name -> TTL attribute, for every table whose template enables TTL."""
    found = {}
    for resource in json.loads(template_body).get("Resources", {}).values():
        props = resource.get("Properties", {})
        ttl = props.get("TimeToLiveSpecification")
        if resource.get("Type") != "AWS::DynamoDB::Table" or not ttl or not ttl.get("Enabled"):
            continue
        table = props["TableName"]
        if isinstance(table, dict):
            table = table["Fn::Sub"].replace("${EnvName}", env_name)
        found[table] = ttl["AttributeName"]
    return found


def apply_ttl(dynamodb: Any, template_body: str, env_name: str) -> list[str]:
    """Enable the declared TTLs that are not enabled yet; returns the tables changed."""
    changed = []
    for table, attribute in sorted(declared_ttl(template_body, env_name).items()):
        current = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            continue
        dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True},
        )
        changed.append(table)
    return changed
