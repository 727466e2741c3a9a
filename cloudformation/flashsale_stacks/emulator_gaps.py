"""What a local emulator's CloudFormation leaves out, made up for through the service APIs.

moto's CloudFormation: ignores TimeToLiveSpecification (set through DynamoDB after a deploy), has
no Fn::Cidr (computed here), hands ECS a parameter's DesiredCount as a string (inlined as a
number), cannot GetAtt LoadBalancerFullName / TargetGroupFullName (cut from the ARNs), and leaves
the route tables, NAT gateway, gateway endpoint and internet gateway of a deleted network stack
(removed through EC2). The templates themselves stay as AWS gets them.
"""

from __future__ import annotations

import ipaddress
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


def inline_cidr(template_body: str, parameters: dict[str, str]) -> str:
    """`template_body` with every Fn::Cidr replaced by the subnet blocks it stands for.

    moto's CloudFormation has no Fn::Cidr. The network stack cuts its subnets from the VPC's
    block (`Fn::GetAtt [Vpc, CidrBlock]`, itself `Ref VpcCidr`), so the blocks are computed here
    with the same rule: `count` subnets of /(32 - bits), in order.
    """
    template = json.loads(template_body)
    resources = template.get("Resources", {})
    defaults = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    values = {**defaults, **parameters}

    def block(node: Any) -> str:
        if isinstance(node, str):
            return node
        if "Ref" in node:
            return values[node["Ref"]]
        logical_id, attribute = node["Fn::GetAtt"]
        assert attribute == "CidrBlock", node
        return block(resources[logical_id]["Properties"]["CidrBlock"])

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::Cidr"}:
                ip_block, count, bits = node["Fn::Cidr"]
                network = ipaddress.ip_network(block(ip_block))
                subnets = network.subnets(new_prefix=network.max_prefixlen - int(bits))
                return [str(subnet) for subnet, _ in zip(subnets, range(int(count)), strict=False)]
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return json.dumps(walk(template), indent=2, sort_keys=True)


def inline_service_counts(template_body: str, parameters: dict[str, str]) -> str:
    """ECS services' `DesiredCount: Ref P` as the number P holds.

    moto's CloudFormation hands a parameter's value to ECS as the string it is, and its ECS
    model then fails on arithmetic with it.
    """
    template = json.loads(template_body)
    defaults = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        count = props.get("DesiredCount")
        if resource.get("Type") == "AWS::ECS::Service" and isinstance(count, dict):
            props["DesiredCount"] = int({**defaults, **parameters}[count["Ref"]])
    return json.dumps(template, indent=2, sort_keys=True)


def _arn_path(logical_id: str, first: int, count: int) -> dict[str, Any]:
    """Parts `first`.. of the `/`-separated resource part of `Ref logical_id` (an ARN)."""
    resource = {"Fn::Select": [5, {"Fn::Split": [":", {"Ref": logical_id}]}]}
    parts = [{"Fn::Select": [i, {"Fn::Split": ["/", resource]}]} for i in range(first, count)]
    return {"Fn::Join": ["/", parts]}


#: ELBv2 attributes moto cannot GetAtt, as the same value cut from the resource's ARN:
#: loadbalancer/app/<name>/<id> -> app/<name>/<id>; targetgroup/<name>/<id> as it is.
_ELB_NAMES = {
    "LoadBalancerFullName": lambda logical_id: _arn_path(logical_id, 1, 4),
    "TargetGroupFullName": lambda logical_id: _arn_path(logical_id, 0, 3),
}


def derive_elb_names(template_body: str) -> str:
    """GetAtt LoadBalancerFullName / TargetGroupFullName, derived from the ARNs instead."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            get_att = node.get("Fn::GetAtt")
            if set(node) == {"Fn::GetAtt"} and get_att[1] in _ELB_NAMES:
                return _ELB_NAMES[get_att[1]](get_att[0])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return json.dumps(walk(json.loads(template_body)), indent=2, sort_keys=True)


def for_moto(template_body: str, parameters: dict[str, str]) -> str:
    """The template as moto's CloudFormation can create it (same resources, same values)."""
    body = inline_cidr(template_body, parameters)
    return derive_elb_names(inline_service_counts(body, parameters))


def release_vpc(ec2: Any, vpc_id: str) -> list[str]:
    """Delete what moto's CloudFormation leaves of a deleted network stack, then the VPC.

    moto deletes the subnets and security groups but not the route tables, the NAT gateway or
    the gateway endpoint, so the VPC itself fails with DependencyViolation. Returns what was
    removed here.
    """
    where = [{"Name": "vpc-id", "Values": [vpc_id]}]
    removed = []
    for endpoint in ec2.describe_vpc_endpoints(Filters=where)["VpcEndpoints"]:
        ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
        removed.append(endpoint["VpcEndpointId"])
    for gateway in ec2.describe_nat_gateways(Filters=where)["NatGateways"]:
        if gateway["State"] not in ("deleted", "deleting"):
            ec2.delete_nat_gateway(NatGatewayId=gateway["NatGatewayId"])
            removed.append(gateway["NatGatewayId"])
    for table in ec2.describe_route_tables(Filters=where)["RouteTables"]:
        if any(a.get("Main") for a in table.get("Associations", [])):
            continue  # goes with the VPC
        for association in table.get("Associations", []):
            ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        ec2.delete_route_table(RouteTableId=table["RouteTableId"])
        removed.append(table["RouteTableId"])
    for gateway in ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    )["InternetGateways"]:
        ec2.detach_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc_id)
        ec2.delete_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"])
        removed.append(gateway["InternetGatewayId"])
    ec2.delete_vpc(VpcId=vpc_id)
    return [*removed, vpc_id]
