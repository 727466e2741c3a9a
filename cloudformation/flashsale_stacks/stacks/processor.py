"""processor: the order processor on ECS Fargate, scaled on backlog per task, with X-Ray sidecar.

Backlog per task = ApproximateNumberOfMessagesVisible / RunningTaskCount (metric math in a
target-tracking policy). Pick the target as the backlog one task clears within the delay you
accept: tasks pay PROCESSOR_CONCURRENCY orders per PAYMENT_LATENCY seconds.
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Template
from troposphere.applicationautoscaling import (
    CustomizedMetricSpecification,
    TargetTrackingMetric,
    TargetTrackingMetricDataQuery,
    TargetTrackingMetricDimension,
    TargetTrackingMetricStat,
)
from troposphere.ecs import ContainerDependency

from flashsale_stacks import ecs, iam, names
from flashsale_stacks.common import (
    add_number,
    add_output,
    add_parameter,
    add_retention,
    import_value,
    new_template,
)

STOP_TIMEOUT_SECONDS = 120  # SIGTERM -> finish in-flight payments -> exit, before SIGKILL


def build() -> Template:
    t = new_template(
        "flash-sale processor: the SQS order processor on ECS Fargate, scaled on backlog per task"
    )
    repository, tag = ecs.add_image_parameters(t, "flashsale-processor")
    capacity = ecs.add_capacity_parameters(
        t, cpu="256", memory="512", desired="1", min_desired="0", min_tasks="1"
    )
    backlog_target = add_number(
        t, "BacklogPerTaskTarget", "Visible messages per running task to hold", 30, minimum=1
    )
    processor_concurrency = add_parameter(
        t, "ProcessorConcurrency", "Orders in flight per task", Default="10"
    )
    payment_concurrency = add_parameter(
        t, "PaymentConcurrency", "Concurrent gateway payments per task", Default="10"
    )
    retention = add_retention(t, "the service")

    cluster = ecs.add_cluster(t, names.PROCESSOR)
    log_group = ecs.add_log_group(t, names.PROCESSOR, retention)
    queue_arn = import_value(names.queue_export(names.ORDER_QUEUE, "arn"))
    dlq_arn = import_value(names.queue_export(names.ORDER_DLQ, "arn"))
    payment_queue_arn = import_value(names.queue_export(names.PAYMENT_QUEUE, "arn"))
    topic_arn = import_value(names.ORDER_TOPIC_ARN)

    execution_role = t.add_resource(ecs.execution_role(names.PROCESSOR, repository))
    task_role = t.add_resource(
        iam.service_role(
            "TaskRole",
            "ecs-tasks.amazonaws.com",
            "processor-task",
            [
                iam.statement(iam.SQS_CONSUME, [queue_arn]),
                # `order_processor redrive` (run as a one-off task) moves DLQ messages back
                iam.statement(
                    [
                        *iam.SQS_CONSUME,
                        "sqs:CancelMessageMoveTask",
                        "sqs:ListMessageMoveTasks",
                        "sqs:StartMessageMoveTask",
                    ],
                    [dlq_arn],
                ),
                iam.statement(["sqs:SendMessage"], [queue_arn]),
                # the order sweeper finds accepted orders whose message was lost (Scan), checks
                # the consumers' queues, re-publishes their OrderPlaced event
                iam.table_statement(
                    sorted({*iam.ORDERS_DECIDE, "dynamodb:Scan"}), names.ORDERS_TABLE
                ),
                iam.table_statement(iam.STOCK_MOVE, names.PRODUCTS_TABLE),
                *iam.ledger_statements(),
                iam.statement(["sqs:GetQueueAttributes"], [payment_queue_arn]),
                iam.statement(["sns:Publish"], [topic_arn]),
                iam.xray_statement(),
            ],
        )
    )

    xray = ecs.xray_daemon(log_group)
    app = ecs.app_container(
        names.PROCESSOR,
        (repository, tag),
        log_group,
        {
            "ORDER_QUEUE_URL": import_value(names.queue_export(names.ORDER_QUEUE, "url")),
            "ORDER_DLQ_URL": import_value(names.queue_export(names.ORDER_DLQ, "url")),
            "PAYMENT_QUEUE_URL": import_value(names.queue_export(names.PAYMENT_QUEUE, "url")),
            "ORDER_TOPIC_ARN": topic_arn,
            "PROCESSOR_CONCURRENCY": Ref(processor_concurrency),
            "PAYMENT_CONCURRENCY": Ref(payment_concurrency),
        },
        StopTimeout=STOP_TIMEOUT_SECONDS,
        DependsOn=[ContainerDependency(ContainerName=xray.Name, Condition="START")],
    )
    service, scalable = ecs.add_fargate_service(
        t,
        names.PROCESSOR,
        cluster,
        capacity,
        (execution_role, task_role),
        [app, xray],
        names.PROCESSOR_SECURITY_GROUP_ID,
    )

    ecs.add_target_tracking(
        t,
        "BacklogScaling",
        "processor-backlog",
        scalable,
        Ref(backlog_target),
        CustomizedMetricSpecification=CustomizedMetricSpecification(
            Metrics=[
                _metric(
                    "visible",
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    {"QueueName": import_value(names.queue_export(names.ORDER_QUEUE, "name"))},
                ),
                _metric(
                    "tasks",
                    "ECS/ContainerInsights",
                    "RunningTaskCount",
                    {"ClusterName": Ref(cluster), "ServiceName": GetAtt(service, "Name")},
                ),
                TargetTrackingMetricDataQuery(
                    Id="backlog_per_task",
                    Expression="visible / tasks",
                    Label="visible messages per running task",
                    ReturnData=True,
                ),
            ]
        ),
    )

    add_output(t, "ClusterName", Ref(cluster), "ECS cluster", names.PROCESSOR_CLUSTER_NAME)
    add_output(
        t, "ServiceName", GetAtt(service, "Name"), "ECS service", names.PROCESSOR_SERVICE_NAME
    )
    return t


def _metric(
    query_id: str, namespace: str, metric: str, dimensions: dict[str, object]
) -> TargetTrackingMetricDataQuery:
    return TargetTrackingMetricDataQuery(
        Id=query_id,
        ReturnData=False,
        MetricStat=TargetTrackingMetricStat(
            Stat="Average",
            Metric=TargetTrackingMetric(
                Namespace=namespace,
                MetricName=metric,
                Dimensions=[
                    TargetTrackingMetricDimension(Name=key, Value=value)
                    for key, value in sorted(dimensions.items())
                ],
            ),
        ),
    )
