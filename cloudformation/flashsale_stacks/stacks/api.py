"""api: the order API on ECS Fargate behind an internet-facing ALB, scaled on CPU and requests."""

from __future__ import annotations

from troposphere import Equals, GetAtt, If, Join, Ref, Select, Split, Sub, Template
from troposphere.applicationautoscaling import PredefinedMetricSpecification
from troposphere.ecs import (
    HealthCheck,
    LoadBalancer,
    PortMapping,
    Secret,
)
from troposphere.elasticloadbalancingv2 import (
    Action,
    Certificate,
    Listener,
    LoadBalancerAttributes,
    Matcher,
    RedirectConfig,
    TargetGroup,
    TargetGroupAttribute,
)
from troposphere.elasticloadbalancingv2 import (
    LoadBalancer as ApplicationLoadBalancer,
)

from flashsale_stacks import ecs, iam, names
from flashsale_stacks.common import (
    add_number,
    add_output,
    add_parameter,
    add_retention,
    checkov_skip,
    import_list,
    import_value,
    name,
    new_template,
    tags,
)

HEALTH_PATH = "/health"
SECRET_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:"
    r"(secretsmanager:[a-z0-9-]+:\d{12}:secret:|ssm:[a-z0-9-]+:\d{12}:parameter/).+$"
)
CERTIFICATE_ARN_PATTERN = r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/.+$"
#: TLS 1.3 and 1.2 only (AWS's recommended policy for new ALBs)
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def build() -> Template:
    t = new_template("flash-sale api: the order API on ECS Fargate behind an ALB, autoscaled")
    repository, tag = ecs.add_image_parameters(t, "flashsale-api")
    capacity = ecs.add_capacity_parameters(
        t, cpu="512", memory="1024", desired="2", min_desired="1", min_tasks="2"
    )
    cpu_target = add_number(t, "CpuTargetPercent", "Average CPU to hold", 60)
    requests_target = add_number(
        t, "RequestsPerTargetTarget", "ALB requests per task per minute to hold", 30000
    )
    workers = add_parameter(
        t, "GunicornWorkers", "gunicorn workers per task (API_WORKERS)", Default="2"
    )
    default_route = add_parameter(
        t,
        "DefaultRoute",
        "Where async orders go unless the request says otherwise",
        Default=names.ROUTE_ECS,
        AllowedValues=[names.ROUTE_ECS, names.ROUTE_LAMBDA],
    )
    payment_concurrency = add_parameter(
        t,
        "PaymentConcurrency",
        "Concurrent synchronous payments per process (the seed's single payment slot: 1)",
        Default="1",
    )
    admin_secret = add_parameter(
        t,
        "AdminApiKeySecretArn",
        "ARN of the Secrets Manager secret or SSM SecureString parameter holding ADMIN_API_KEY "
        "(required: the API refuses to start without a key outside 'local')",
        AllowedPattern=SECRET_ARN_PATTERN,
    )
    certificate = add_parameter(
        t,
        "CertificateArn",
        "ACM certificate of the HTTPS listener (an imported self-signed one works without a "
        "domain of your own: see cloudformation/README.md)",
        AllowedPattern=CERTIFICATE_ARN_PATTERN,
    )
    retention = add_retention(t, "the service")
    # arn:<partition>:ssm:... is a parameter, anything else a Secrets Manager secret
    t.add_condition("AdminKeyInSsm", Equals(Select(2, Split(":", Ref(admin_secret))), "ssm"))

    cluster = ecs.add_cluster(t, names.API)
    log_group = ecs.add_log_group(t, names.API, retention)

    alb = t.add_resource(
        ApplicationLoadBalancer(
            "LoadBalancer",
            Name=name("api"),
            Scheme="internet-facing",
            Type="application",
            Subnets=import_list(names.PUBLIC_SUBNET_IDS),
            SecurityGroups=[import_value(names.ALB_SECURITY_GROUP_ID)],
            LoadBalancerAttributes=[
                LoadBalancerAttributes(
                    Key="routing.http.drop_invalid_header_fields.enabled", Value="true"
                ),
                LoadBalancerAttributes(Key="idle_timeout.timeout_seconds", Value="60"),
            ],
            Tags=tags(names.API),
        )
    )
    checkov_skip(
        alb,
        {
            "CKV_AWS_91": "access logs need an S3 bucket whose policy admits the region's ELB "
            "account; requests are traced (X-Ray) and counted (CloudWatch) instead",
        },
    )
    target_group = t.add_resource(
        TargetGroup(
            "TargetGroup",
            Name=name("api"),
            VpcId=import_value(names.VPC_ID),
            TargetType="ip",
            Protocol="HTTP",
            Port=names.API_CONTAINER_PORT,
            HealthCheckPath=HEALTH_PATH,
            HealthCheckIntervalSeconds=10,
            HealthCheckTimeoutSeconds=5,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=3,
            Matcher=Matcher(HttpCode="200"),
            TargetGroupAttributes=[
                TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="30"),
            ],
            Tags=tags(names.API),
        )
    )
    listener = t.add_resource(
        Listener(
            "HttpsListener",
            LoadBalancerArn=Ref(alb),
            Port=443,
            Protocol="HTTPS",
            SslPolicy=TLS_POLICY,
            Certificates=[Certificate(CertificateArn=Ref(certificate))],
            DefaultActions=[Action(Type="forward", TargetGroupArn=Ref(target_group))],
        )
    )
    t.add_resource(
        Listener(
            "HttpListener",
            LoadBalancerArn=Ref(alb),
            Port=80,
            Protocol="HTTP",
            DefaultActions=[
                Action(
                    Type="redirect",
                    RedirectConfig=RedirectConfig(
                        Protocol="HTTPS", Port="443", StatusCode="HTTP_301"
                    ),
                )
            ],
        )
    )

    execution_role = t.add_resource(
        ecs.execution_role(
            names.API,
            repository,
            [
                If(
                    "AdminKeyInSsm",
                    iam.statement(["ssm:GetParameters"], [Ref(admin_secret)]),
                    iam.statement(["secretsmanager:GetSecretValue"], [Ref(admin_secret)]),
                )
            ],
        )
    )
    topic_arn = import_value(names.ORDER_TOPIC_ARN)
    task_role = t.add_resource(
        iam.service_role(
            "TaskRole",
            "ecs-tasks.amazonaws.com",
            "api-task",
            [
                iam.statement(["sns:GetTopicAttributes", "sns:Publish"], [topic_arn]),
                iam.table_statement(iam.ORDERS_PLACE, names.ORDERS_TABLE),
                iam.table_statement(
                    sorted({*iam.STOCK_MOVE, *iam.CATALOG_READ}), names.PRODUCTS_TABLE
                ),
                iam.table_statement(iam.IDEMPOTENCY_RECORDS, names.IDEMPOTENCY_TABLE),
                # the sync path charges, so it records in the ledger like the processor
                *iam.ledger_statements(),
                iam.table_statement(iam.READINESS_DESCRIBE, *names.TABLES),
                iam.xray_statement(),
            ],
        )
    )

    app = ecs.app_container(
        names.API,
        (repository, tag),
        log_group,
        {
            "ORDER_TOPIC_ARN": topic_arn,
            "DEFAULT_ROUTE": Ref(default_route),
            "PAYMENT_CONCURRENCY": Ref(payment_concurrency),
            # gunicorn (orders_api.gunicorn_conf): reachable by the ALB inside the task's ENI
            "API_HOST": "0.0.0.0",
            "API_PORT": str(names.API_CONTAINER_PORT),
            "API_WORKERS": Ref(workers),
        },
        PortMappings=[PortMapping(ContainerPort=names.API_CONTAINER_PORT, Protocol="tcp")],
        Secrets=[Secret(Name="ADMIN_API_KEY", ValueFrom=Ref(admin_secret))],
        HealthCheck=HealthCheck(
            Command=[
                "CMD",
                "python",
                "-c",
                "import urllib.request; urllib.request.urlopen("
                f"'http://127.0.0.1:{names.API_CONTAINER_PORT}{HEALTH_PATH}', timeout=2)",
            ],
            Interval=15,
            Timeout=5,
            Retries=3,
            StartPeriod=20,
        ),
        StopTimeout=30,
        ReadonlyRootFilesystem=False,
    )
    service, scalable = ecs.add_fargate_service(
        t,
        names.API,
        cluster,
        capacity,
        (execution_role, task_role),
        [app, ecs.xray_daemon(log_group)],
        names.API_SECURITY_GROUP_ID,
        HealthCheckGracePeriodSeconds=30,
        LoadBalancers=[
            LoadBalancer(
                ContainerName="api",
                ContainerPort=names.API_CONTAINER_PORT,
                TargetGroupArn=Ref(target_group),
            )
        ],
        DependsOn=[listener.title],
    )

    ecs.add_target_tracking(
        t,
        "CpuScaling",
        "api-cpu",
        scalable,
        Ref(cpu_target),
        PredefinedMetricSpecification=PredefinedMetricSpecification(
            PredefinedMetricType="ECSServiceAverageCPUUtilization"
        ),
    )
    ecs.add_target_tracking(
        t,
        "RequestScaling",
        "api-requests",
        scalable,
        Ref(requests_target),
        PredefinedMetricSpecification=PredefinedMetricSpecification(
            PredefinedMetricType="ALBRequestCountPerTarget",
            ResourceLabel=Join(
                "/",
                [
                    GetAtt(alb, "LoadBalancerFullName"),
                    GetAtt(target_group, "TargetGroupFullName"),
                ],
            ),
        ),
    )

    add_output(t, "ApiUrl", Sub("https://${LoadBalancer.DNSName}"), "the API's URL", names.API_URL)
    add_output(
        t,
        "LoadBalancerFullName",
        GetAtt(alb, "LoadBalancerFullName"),
        "ALB CloudWatch dimension",
        names.ALB_FULL_NAME,
    )
    add_output(
        t,
        "TargetGroupFullName",
        GetAtt(target_group, "TargetGroupFullName"),
        "target group CloudWatch dimension",
        names.API_TARGET_GROUP_FULL_NAME,
    )
    add_output(t, "ClusterName", Ref(cluster), "ECS cluster", names.API_CLUSTER_NAME)
    add_output(t, "ServiceName", GetAtt(service, "Name"), "ECS service", names.API_SERVICE_NAME)
    return t
