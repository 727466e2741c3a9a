"""What the two Fargate service stacks (api, processor) share: image, logs, roles, X-Ray sidecar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Parameter, Ref, Sub, Template
from troposphere.applicationautoscaling import (
    ScalableTarget,
    ScalingPolicy,
    TargetTrackingScalingPolicyConfiguration,
)
from troposphere.ecs import (
    AwsvpcConfiguration,
    Cluster,
    ClusterSetting,
    ContainerDefinition,
    DeploymentCircuitBreaker,
    DeploymentConfiguration,
    Environment,
    LogConfiguration,
    NetworkConfiguration,
    PortMapping,
    Service,
    TaskDefinition,
)
from troposphere.iam import Role
from troposphere.logs import LogGroup

from flashsale_stacks import iam, names
from flashsale_stacks.common import (
    ENV_PARAM,
    LOG_GROUP_NOT_KMS,
    add_number,
    add_parameter,
    checkov_skip,
    disposable,
    import_list,
    import_value,
    log_group_arn,
    name,
    tags,
)

XRAY_DAEMON_IMAGE = "public.ecr.aws/xray/aws-xray-daemon:3.3.14"
XRAY_DAEMON_PORT = 2000


def add_image_parameters(t: Template, default_repository: str) -> tuple[Any, Any]:
    repository = add_parameter(
        t,
        "ImageRepository",
        "ECR repository (in this account and region) holding the service image",
        Default=default_repository,
    )
    tag = add_parameter(t, "ImageTag", "Image tag to run (e.g. the git commit)")
    return repository, tag


def image_uri(repository: Any, tag: Any) -> Sub:
    return Sub(
        "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/${Repository}:${Tag}",
        Repository=Ref(repository),
        Tag=Ref(tag),
    )


def repository_arn(repository: Any) -> Sub:
    return Sub(
        "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${Repository}",
        Repository=Ref(repository),
    )


def add_cluster(t: Template, component: str) -> Cluster:
    return t.add_resource(
        Cluster(
            "Cluster",
            ClusterName=name(component),
            # ECS/ContainerInsights provides RunningTaskCount (used for backlog-per-task scaling)
            ClusterSettings=[ClusterSetting(Name="containerInsights", Value="enabled")],
            Tags=tags(component),
        )
    )


def add_log_group(t: Template, component: str, retention: Any) -> LogGroup:
    log_group = LogGroup(
        "LogGroup",
        LogGroupName=Sub(f"/ecs/${{{ENV_PARAM}}}-{component}"),
        RetentionInDays=Ref(retention),
    )
    return t.add_resource(checkov_skip(disposable(log_group), {"CKV_AWS_158": LOG_GROUP_NOT_KMS}))


def execution_role(
    component: str, repository: Any, extra: list[dict[str, Any]] | None = None
) -> Role:
    """What ECS itself needs to start a task: pull this image, write this log group."""
    return iam.service_role(
        "ExecutionRole",
        "ecs-tasks.amazonaws.com",
        f"{component}-task-execution",
        [
            iam.statement(["ecr:GetAuthorizationToken"], ["*"]),
            iam.statement(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [repository_arn(repository)],
            ),
            iam.statement(
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [log_group_arn(f"/ecs/${{{ENV_PARAM}}}-{component}")],
            ),
            *(extra or []),
        ],
    )


def log_configuration(log_group: LogGroup, stream_prefix: str) -> LogConfiguration:
    return LogConfiguration(
        LogDriver="awslogs",
        Options={
            "awslogs-group": Ref(log_group),
            "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": stream_prefix,
        },
    )


def xray_daemon(log_group: LogGroup) -> ContainerDefinition:
    """The X-Ray daemon sidecar; the app sends segments to 127.0.0.1:2000/udp (shared netns)."""
    return ContainerDefinition(
        Name="xray-daemon",
        Image=XRAY_DAEMON_IMAGE,
        Essential=False,
        Cpu=32,
        MemoryReservation=64,
        PortMappings=[PortMapping(ContainerPort=XRAY_DAEMON_PORT, Protocol="udp")],
        LogConfiguration=log_configuration(log_group, "xray"),
    )


def app_container(
    component: str,
    image: tuple[Any, Any],
    log_group: LogGroup,
    variables: dict[str, Any],
    **props: Any,
) -> ContainerDefinition:
    """The service's own container: its image (repository and tag parameters), the settings
    every service gets plus `variables`, logs in the service's log group."""
    repository, tag = image
    return ContainerDefinition(
        Name=component,
        Image=image_uri(repository, tag),
        Essential=True,
        Environment=environment({**common_environment(), **variables}),
        LogConfiguration=log_configuration(log_group, component),
        **props,
    )


def environment(variables: dict[str, Any]) -> list[Environment]:
    return [Environment(Name=key, Value=value) for key, value in sorted(variables.items())]


def common_environment() -> dict[str, Any]:
    """Settings every service container gets (names follow the shared settings module)."""
    return {
        "ENV_NAME": Ref(ENV_PARAM),
        "AWS_REGION": Ref("AWS::Region"),
        "ORDERS_TABLE": name(names.ORDERS_TABLE),
        "PRODUCTS_TABLE": name(names.PRODUCTS_TABLE),
        "IDEMPOTENCY_TABLE": name(names.IDEMPOTENCY_TABLE),
        "PAYMENTS_TABLE": name(names.PAYMENTS_TABLE),
        "AWS_XRAY_SDK_ENABLED": "true",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{XRAY_DAEMON_PORT}",
    }


def add_fargate_service(
    t: Template,
    component: str,
    cluster: Cluster,
    capacity: Capacity,
    roles: tuple[Role, Role],
    containers: list[ContainerDefinition],
    security_group_export: str,
    **service_props: Any,
) -> tuple[Service, ScalableTarget]:
    """The task definition (execution role, task role), its Fargate service in the private
    subnets (rolling deployments that keep every task up and roll back when tasks fail) and the
    Application Auto Scaling target of its desired count, within the capacity's bounds."""
    execution_role, task_role = roles
    task = t.add_resource(
        TaskDefinition(
            "TaskDefinition",
            Family=name(component),
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=Ref(capacity.cpu),
            Memory=Ref(capacity.memory),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ContainerDefinitions=containers,
            Tags=tags(component),
        )
    )
    service = t.add_resource(
        Service(
            "Service",
            ServiceName=name(component),
            Cluster=Ref(cluster),
            LaunchType="FARGATE",
            TaskDefinition=Ref(task),
            DesiredCount=Ref(capacity.desired),
            DeploymentConfiguration=DeploymentConfiguration(
                MinimumHealthyPercent=100,
                MaximumPercent=200,
                DeploymentCircuitBreaker=DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
            NetworkConfiguration=NetworkConfiguration(
                AwsvpcConfiguration=AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    Subnets=import_list(names.PRIVATE_SUBNET_IDS),
                    SecurityGroups=[import_value(security_group_export)],
                )
            ),
            PropagateTags="SERVICE",
            Tags=tags(component),
            **service_props,
        )
    )
    scalable = t.add_resource(
        ScalableTarget(
            "ScalableTarget",
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Sub(
                "service/${Cluster}/${Service}",
                Cluster=Ref(cluster),
                Service=GetAtt(service, "Name"),
            ),
            MinCapacity=Ref(capacity.min_tasks),
            MaxCapacity=Ref(capacity.max_tasks),
        )
    )
    return service, scalable


def add_target_tracking(
    t: Template,
    logical_id: str,
    policy_name: str,
    scalable: ScalableTarget,
    target: Any,
    **metric: Any,
) -> ScalingPolicy:
    """A target-tracking policy on the service's task count: out fast (30 s), in slowly (120 s).
    `metric` is the configuration's metric (PredefinedMetricSpecification or
    CustomizedMetricSpecification)."""
    return t.add_resource(
        ScalingPolicy(
            logical_id,
            PolicyName=name(policy_name),
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(scalable),
            TargetTrackingScalingPolicyConfiguration=TargetTrackingScalingPolicyConfiguration(
                TargetValue=target, ScaleInCooldown=120, ScaleOutCooldown=30, **metric
            ),
        )
    )


@dataclass(frozen=True)
class Capacity:
    """The sizing parameters every ECS service stack declares."""

    cpu: Parameter
    memory: Parameter
    desired: Parameter
    min_tasks: Parameter
    max_tasks: Parameter


def add_capacity_parameters(
    t: Template, cpu: str, memory: str, desired: str, min_desired: str, min_tasks: str
) -> Capacity:
    """Task size, initial task count and autoscaling bounds, with the stack's defaults."""
    return Capacity(
        cpu=add_parameter(
            t, "Cpu", "Task CPU units", Default=cpu, AllowedValues=["256", "512", "1024", "2048"]
        ),
        memory=add_parameter(t, "Memory", "Task memory (MiB)", Default=memory),
        desired=add_number(t, "DesiredCount", "Tasks at creation", desired, minimum=min_desired),
        min_tasks=add_number(t, "MinCapacity", "Autoscaling minimum", min_tasks, minimum=1),
        max_tasks=add_number(t, "MaxCapacity", "Autoscaling maximum", 10, minimum=1),
    )
