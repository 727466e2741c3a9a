"""network: a VPC over two AZs (public + private subnets), one NAT gateway, a DynamoDB gateway
endpoint, and the security groups of the ALB and the two ECS services."""

from __future__ import annotations

from typing import Any

from troposphere import Cidr, GetAtt, GetAZs, Join, Ref, Select, Sub, Tags, Template
from troposphere.ec2 import (
    EIP,
    VPC,
    InternetGateway,
    NatGateway,
    Route,
    RouteTable,
    SecurityGroup,
    SecurityGroupIngress,
    Subnet,
    SubnetRouteTableAssociation,
    VPCEndpoint,
    VPCGatewayAttachment,
)

from flashsale_stacks import names
from flashsale_stacks.common import add_output, add_parameter, name, new_template, tags

AZ_COUNT = 2


def build() -> Template:
    t = new_template(
        "flash-sale network: VPC, public + private subnets in 2 AZs, NAT, DynamoDB endpoint, SGs"
    )
    vpc_cidr = add_parameter(
        t,
        "VpcCidr",
        "VPC address range; split into four /20 subnets",
        Default="10.40.0.0/16",
        AllowedPattern=r"^(\d{1,3}\.){3}\d{1,3}/(1[6-8])$",
    )
    ingress_cidr = add_parameter(
        t,
        "AlbIngressCidr",
        "Who may reach the load balancer (no default: 0.0.0.0/0 for a public API is a choice)",
        AllowedPattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$",
    )

    vpc = t.add_resource(
        VPC(
            "Vpc",
            CidrBlock=Ref(vpc_cidr),
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=tags("network") + _name_tag("vpc"),
        )
    )
    subnet_cidrs = Cidr(GetAtt(vpc, "CidrBlock"), 2 * AZ_COUNT, 12)
    igw = t.add_resource(InternetGateway("InternetGateway", Tags=tags("network")))
    attachment = t.add_resource(
        VPCGatewayAttachment("GatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw))
    )

    public_rt = t.add_resource(
        RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=tags("network") + _name_tag("public"))
    )
    t.add_resource(
        Route(
            "PublicDefaultRoute",
            RouteTableId=Ref(public_rt),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(igw),
            DependsOn=[attachment.title],
        )
    )
    public, private = [], []
    for i in range(AZ_COUNT):
        public.append(
            _add_subnet(
                t, "Public", i, vpc, Select(i, subnet_cidrs), public_rt, MapPublicIpOnLaunch=False
            )
        )

    # one NAT gateway (cost over AZ-independence; add one per AZ for production resilience)
    nat_ip = t.add_resource(EIP("NatIp", Domain="vpc", DependsOn=[attachment.title]))
    nat = t.add_resource(
        NatGateway(
            "NatGateway",
            AllocationId=GetAtt(nat_ip, "AllocationId"),
            SubnetId=Ref(public[0]),
            Tags=tags("network"),
        )
    )
    private_tables = []
    for i in range(AZ_COUNT):
        letter = "AB"[i]
        table = t.add_resource(
            RouteTable(
                f"PrivateRouteTable{letter}",
                VpcId=Ref(vpc),
                Tags=tags("network") + _name_tag(f"private-{letter.lower()}"),
            )
        )
        t.add_resource(
            Route(
                f"PrivateDefaultRoute{letter}",
                RouteTableId=Ref(table),
                DestinationCidrBlock="0.0.0.0/0",
                NatGatewayId=Ref(nat),
            )
        )
        private.append(_add_subnet(t, "Private", i, vpc, Select(AZ_COUNT + i, subnet_cidrs), table))
        private_tables.append(table)

    # DynamoDB traffic (the hot path) stays off the NAT gateway: free gateway endpoint
    t.add_resource(
        VPCEndpoint(
            "DynamoDbEndpoint",
            VpcId=Ref(vpc),
            ServiceName=Sub("com.amazonaws.${AWS::Region}.dynamodb"),
            VpcEndpointType="Gateway",
            RouteTableIds=[Ref(table) for table in private_tables],
        )
    )

    api_sg = _add_security_group(
        t, "Api", "api-tasks", "flash-sale API tasks: the container port from the ALB only", vpc
    )
    alb_sg = _add_security_group(
        t,
        "Alb",
        "alb",
        "flash-sale API load balancer: HTTPS in, API containers out",
        vpc,
        SecurityGroupIngress=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "CidrIp": Ref(ingress_cidr),
                "Description": description,
            }
            for port, description in ((443, "HTTPS"), (80, "HTTP, redirected to HTTPS"))
        ],
        # an explicit egress list replaces the default allow-all rule
        SecurityGroupEgress=[
            {
                "IpProtocol": "tcp",
                "FromPort": names.API_CONTAINER_PORT,
                "ToPort": names.API_CONTAINER_PORT,
                "DestinationSecurityGroupId": Ref(api_sg),
                "Description": "API containers",
            }
        ],
    )
    t.add_resource(
        SecurityGroupIngress(
            "ApiFromAlb",
            GroupId=Ref(api_sg),
            IpProtocol="tcp",
            FromPort=names.API_CONTAINER_PORT,
            ToPort=names.API_CONTAINER_PORT,
            SourceSecurityGroupId=Ref(alb_sg),
            Description="ALB to API containers",
        )
    )
    processor_sg = _add_security_group(
        t, "Processor", "processor-tasks", "flash-sale processor tasks: no inbound traffic", vpc
    )

    add_output(t, "VpcId", Ref(vpc), "VPC", names.VPC_ID)
    add_output(
        t,
        "PublicSubnetIds",
        Join(",", [Ref(s) for s in public]),
        "public subnets (ALB), comma-separated",
        names.PUBLIC_SUBNET_IDS,
    )
    add_output(
        t,
        "PrivateSubnetIds",
        Join(",", [Ref(s) for s in private]),
        "private subnets (ECS tasks), comma-separated",
        names.PRIVATE_SUBNET_IDS,
    )
    add_output(
        t, "AlbSecurityGroupId", Ref(alb_sg), "ALB security group", names.ALB_SECURITY_GROUP_ID
    )
    add_output(
        t,
        "ApiSecurityGroupId",
        Ref(api_sg),
        "API tasks security group",
        names.API_SECURITY_GROUP_ID,
    )
    add_output(
        t,
        "ProcessorSecurityGroupId",
        Ref(processor_sg),
        "processor tasks security group",
        names.PROCESSOR_SECURITY_GROUP_ID,
    )
    return t


def _name_tag(suffix: str) -> Tags:
    return Tags(Name=name(suffix))


def _add_subnet(
    t: Template, kind: str, index: int, vpc: VPC, cidr: Any, route_table: RouteTable, **props: Any
) -> Subnet:
    """The `kind` ("Public", "Private") subnet of the index-th zone, routed by `route_table`."""
    letter = "AB"[index]
    subnet = t.add_resource(
        Subnet(
            f"{kind}Subnet{letter}",
            VpcId=Ref(vpc),
            AvailabilityZone=Select(index, GetAZs("")),
            CidrBlock=cidr,
            Tags=tags("network") + _name_tag(f"{kind.lower()}-{letter.lower()}"),
            **props,
        )
    )
    t.add_resource(
        SubnetRouteTableAssociation(
            f"{kind}Subnet{letter}Routes", SubnetId=Ref(subnet), RouteTableId=Ref(route_table)
        )
    )
    return subnet


def _add_security_group(
    t: Template, prefix: str, group_name: str, description: str, vpc: VPC, **props: Any
) -> SecurityGroup:
    return t.add_resource(
        SecurityGroup(
            f"{prefix}SecurityGroup",
            GroupName=name(group_name),
            GroupDescription=description,
            VpcId=Ref(vpc),
            Tags=tags("network"),
            **props,
        )
    )
