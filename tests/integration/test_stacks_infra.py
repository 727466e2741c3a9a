"""Every stack deployed somewhere: `deploy-all --env local` under a fresh environment name puts
data on moto, messaging and payment_fn on LocalStack, and network, api, processor and
observability on moto's CloudFormation (VPC, ECS, ELBv2, IAM, Logs, SNS); then an update, and
deletion in reverse order.

moto lacks two resource types these stacks declare: it skips AWS::ApplicationAutoScaling::*
(the ECS scaling targets and policies) and AWS::CloudWatch::Alarm with a warning and creates the
rest. The tests below assert that gap, so they notice the day moto fills it
(cloudformation/README.md lists the gaps and what the deploy tool does about the others).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flashsale_stacks import registry
from flashsale_stacks.cli import main
from flashsale_stacks.deploy import describe, outputs_of
from flashsale_stacks.local_infra import MIRROR_SUFFIX
from flashsale_stacks.targets import Target

pytestmark = pytest.mark.integration
INFRA = ("network", "api", "processor", "observability")


def _options(env_name: str, code_zip: Path) -> list[str]:
    return ["--env", "local", "--env-name", env_name, "--code", str(code_zip)]


@pytest.fixture(scope="module")
def env_name(target: Target, code_zip: Path) -> Iterator[str]:
    name = f"it{uuid.uuid4().hex[:8]}"
    args = ["deploy-all", *_options(name, code_zip), "--param", "ImageTag=it-1"]
    assert main(args) == 0
    yield name
    for spec in reversed(registry.STACKS):  # whatever a failed test left behind
        main(["delete", spec.key, "--env", "local", "--env-name", name])
    target.moto_client("cloudformation").delete_stack(StackName=f"{name}-{MIRROR_SUFFIX}")


def _stack(target: Target, key: str, env_name: str) -> dict[str, Any] | None:
    spec = registry.get(key)
    return describe(target.cloudformation(spec), spec.stack_name(env_name))


def test_every_stack_is_created(target: Target, env_name: str) -> None:
    for spec in registry.STACKS:
        stack = _stack(target, spec.key, env_name)
        assert stack and stack["StackStatus"] == "CREATE_COMPLETE", (spec.key, stack)


def test_network_api_and_processor_resources_exist_on_moto(target: Target, env_name: str) -> None:
    network = outputs_of(_stack(target, "network", env_name) or {})
    ec2 = target.moto_client("ec2")
    (vpc,) = ec2.describe_vpcs(VpcIds=[network["VpcId"]])["Vpcs"]
    subnets = network["PublicSubnetIds"].split(",") + network["PrivateSubnetIds"].split(",")
    blocks = {s["CidrBlock"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}
    assert vpc["CidrBlock"] == "10.40.0.0/16" and len(blocks) == 4  # four /20 cut from it

    api = outputs_of(_stack(target, "api", env_name) or {})
    assert api["ApiUrl"].startswith("https://")
    elb = target.moto_client("elbv2")
    (balancer,) = elb.describe_load_balancers(Names=[f"{env_name}-api"])["LoadBalancers"]
    listeners = {
        listener["Port"]: listener
        for listener in elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "Listeners"
        ]
    }
    assert listeners[443]["Protocol"] == "HTTPS" and listeners[443]["Certificates"]
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"
    ecs = target.moto_client("ecs")
    for key in ("api", "processor"):
        outputs = outputs_of(_stack(target, key, env_name) or {})
        cluster, service = outputs["ClusterName"], outputs["ServiceName"]
        (found,) = ecs.describe_services(cluster=cluster, services=[service])["services"]
        assert found["status"] == "ACTIVE", found


def test_what_moto_lacks_is_skipped_not_created(target: Target, env_name: str) -> None:
    """The gap: no scaling targets, no alarms (on AWS the same templates create both)."""
    scaling = target.moto_client("application-autoscaling")
    targets = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert not [t for t in targets if env_name in t["ResourceId"]]
    alarms = target.moto_client("cloudwatch").describe_alarms(AlarmNamePrefix=env_name)
    assert not alarms["MetricAlarms"]


def test_update_then_delete_in_reverse_order(target: Target, env_name: str, code_zip: Path) -> None:
    args = ["deploy", "processor", *_options(env_name, code_zip)]
    assert main([*args, "--param", "ImageTag=it-2", "--param", "ProcessorConcurrency=4"]) == 0
    processor = _stack(target, "processor", env_name)
    assert processor and processor["StackStatus"] == "UPDATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in processor["Parameters"]}
    assert parameters["ImageTag"] == "it-2" and parameters["ProcessorConcurrency"] == "4"

    vpc_id = outputs_of(_stack(target, "network", env_name) or {})["VpcId"]
    for key in reversed(INFRA):
        assert main(["delete", key, "--env", "local", "--env-name", env_name]) == 0
        assert _stack(target, key, env_name) is None
    vpcs = target.moto_client("ec2").describe_vpcs()["Vpcs"]
    assert vpc_id not in {vpc["VpcId"] for vpc in vpcs}  # nothing of the network is left
