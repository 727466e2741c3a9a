"""observability: CloudWatch alarms on the pipeline's failure signals and one dashboard.

Alarms: any message in a dead-letter/failure queue, orders waiting too long in a queue, ALB 5xx
and p99 latency, payment Lambda errors and throttles. They notify the `{env}-alarms` topic.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import Equals, If, Not, NoValue, Ref, Sub, Template
from troposphere.cloudwatch import Alarm, Dashboard, MetricDimension
from troposphere.sns import Subscription, Topic

from flashsale_stacks import names
from flashsale_stacks.common import (
    add_number,
    add_output,
    add_parameter,
    checkov_skip,
    import_value,
    name,
    new_template,
    tags,
)

# (logical id prefix, queue suffix, human label)
DEAD_LETTER_QUEUES = (
    ("OrderDlq", names.ORDER_DLQ, "order DLQ (processor path)"),
    ("PaymentDlq", names.PAYMENT_DLQ, "payment DLQ (Lambda path)"),
    ("PaymentFnFailures", names.PAYMENT_FN_FAILURES, "failed asynchronous payment_fn invokes"),
)
WORK_QUEUES = (
    ("OrderQueue", names.ORDER_QUEUE, "order queue"),
    ("PaymentQueue", names.PAYMENT_QUEUE, "payment queue"),
)


def build() -> Template:
    t = new_template("flash-sale observability: CloudWatch alarms and the pipeline dashboard")
    email = add_parameter(t, "AlarmEmail", "Who is emailed on alarm (empty: nobody)", Default="")
    max_age = add_number(
        t,
        "QueueAgeThresholdSeconds",
        "Alarm when the oldest order in a queue is older than this",
        300,
        minimum=60,
    )
    alb_5xx = add_number(
        t,
        "Alb5xxThreshold",
        "Alarm when the ALB returns more 5xx than this in a minute",
        10,
        minimum=0,
    )
    p99 = add_parameter(
        t,
        "AlbP99LatencySeconds",
        "Alarm when the API's p99 response time exceeds this",
        Default="0.5",
    )
    t.add_condition("HasEmail", Not(Equals(Ref(email), "")))

    topic = t.add_resource(
        Topic(
            "AlarmTopic",
            TopicName=name(names.ALARM_TOPIC),
            Subscription=If(
                "HasEmail", [Subscription(Protocol="email", Endpoint=Ref(email))], NoValue
            ),
            Tags=tags("observability"),
        )
    )
    checkov_skip(
        topic,
        {
            "CKV_AWS_26": "CloudWatch alarms cannot publish to a topic encrypted with the AWS "
            "managed SNS key; alarm texts name metrics and thresholds, no data"
        },
    )
    notify = [Ref(topic)]

    def alarm(
        logical_id: str,
        description: str,
        metric: tuple[str, str, MetricDimension],
        threshold: Any,
        evaluation_periods: int,
        statistic: str = "Sum",
    ) -> None:
        """Alarm when the metric (namespace, name, dimension) is above `threshold` for
        `evaluation_periods` minutes; no data is no alarm. `statistic` "pNN" is a percentile."""
        namespace, metric_name, dimension = metric
        stat = {"ExtendedStatistic" if statistic.startswith("p") else "Statistic": statistic}
        t.add_resource(
            Alarm(
                logical_id,
                AlarmName=name(f"{_kebab(logical_id)}"),
                AlarmDescription=description,
                AlarmActions=notify,
                OKActions=notify,
                Namespace=namespace,
                MetricName=metric_name,
                Dimensions=[dimension],
                Period=60,
                EvaluationPeriods=evaluation_periods,
                Threshold=threshold,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching",
                **stat,
            )
        )

    sqs = "AWS/SQS"
    for logical_id, queue, label in DEAD_LETTER_QUEUES:
        alarm(
            f"{logical_id}NotEmpty",
            f"messages in the {label}: inspect, fix, redrive",
            (sqs, "ApproximateNumberOfMessagesVisible", _queue_dimension(queue)),
            0,
            1,
            "Maximum",
        )
    for logical_id, queue, label in WORK_QUEUES:
        alarm(
            f"{logical_id}OldestMessage",
            f"orders wait too long in the {label}: consumers too slow or stopped",
            (sqs, "ApproximateAgeOfOldestMessage", _queue_dimension(queue)),
            Ref(max_age),
            3,
            "Maximum",
        )

    elb = "AWS/ApplicationELB"
    alb = MetricDimension(Name="LoadBalancer", Value=import_value(names.ALB_FULL_NAME))
    for logical_id, metric, label in (
        ("AlbElb5xx", "HTTPCode_ELB_5XX_Count", "the load balancer"),
        ("AlbTarget5xx", "HTTPCode_Target_5XX_Count", "the API containers"),
    ):
        alarm(logical_id, f"5xx responses from {label}", (elb, metric, alb), Ref(alb_5xx), 2)
    alarm(
        "AlbP99Latency",
        "API p99 response time above the threshold",
        (elb, "TargetResponseTime", alb),
        Ref(p99),
        3,
        "p99",
    )

    function = MetricDimension(Name="FunctionName", Value=import_value(names.PAYMENT_FN_NAME))
    for metric in ("Errors", "Throttles"):
        alarm(
            f"PaymentFn{metric}",
            f"payment_fn {metric.lower()}",
            ("AWS/Lambda", metric, function),
            0,
            1,
        )

    t.add_resource(
        Dashboard(
            "Dashboard",
            DashboardName=name(names.DASHBOARD),
            DashboardBody=Sub(
                json.dumps(dashboard_body(), sort_keys=True),
                Alb=import_value(names.ALB_FULL_NAME),
                Function=import_value(names.PAYMENT_FN_NAME),
            ),
        )
    )
    add_output(t, "AlarmTopicArn", Ref(topic), "where alarms are sent")
    add_output(
        t,
        "DashboardUrl",
        Sub(
            "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
            "?region=${AWS::Region}#dashboards:name=${EnvName}-" + names.DASHBOARD
        ),
        "the pipeline dashboard",
    )
    return t


def _queue_dimension(queue: str) -> MetricDimension:
    return MetricDimension(Name="QueueName", Value=name(queue))


def _kebab(identifier: str) -> str:
    out = []
    for i, char in enumerate(identifier):
        if char.isupper() and i and not identifier[i - 1].isupper():
            out.append("-")
        out.append(char.lower())
    return "".join(out)


def dashboard_body() -> dict[str, Any]:
    """The dashboard as a dict; `${...}` placeholders are filled by Fn::Sub."""

    def queue(suffix: str) -> str:
        return f"${{EnvName}}-{suffix}"

    def widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum") -> dict:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": "${AWS::Region}",
                "metrics": metrics,
                "stat": stat,
                "period": 60,
                "view": "timeSeries",
            },
        }

    alb = ["AWS/ApplicationELB"]
    sqs = "AWS/SQS"
    widgets = [
        widget(
            "API requests and 5xx",
            [
                [*alb, "RequestCount", "LoadBalancer", "${Alb}"],
                [*alb, "HTTPCode_Target_5XX_Count", "LoadBalancer", "${Alb}"],
                [*alb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", "${Alb}"],
            ],
            0,
            0,
        ),
        widget(
            "API latency (p50, p99)",
            [
                [*alb, "TargetResponseTime", "LoadBalancer", "${Alb}", {"stat": "p50"}],
                [*alb, "TargetResponseTime", "LoadBalancer", "${Alb}", {"stat": "p99"}],
            ],
            12,
            0,
            stat="p99",
        ),
        widget(
            "Queue depth (visible)",
            [
                [sqs, "ApproximateNumberOfMessagesVisible", "QueueName", queue(q)]
                for q in (names.ORDER_QUEUE, names.PAYMENT_QUEUE)
            ],
            0,
            6,
            stat="Maximum",
        ),
        widget(
            "Oldest message age (s)",
            [
                [sqs, "ApproximateAgeOfOldestMessage", "QueueName", queue(q)]
                for q in (names.ORDER_QUEUE, names.PAYMENT_QUEUE)
            ],
            12,
            6,
            stat="Maximum",
        ),
        widget(
            "Dead letters",
            [
                [sqs, "ApproximateNumberOfMessagesVisible", "QueueName", queue(q)]
                for _, q, _ in DEAD_LETTER_QUEUES
            ],
            0,
            12,
            stat="Maximum",
        ),
        widget(
            "payment_fn invocations, errors, throttles",
            [
                ["AWS/Lambda", metric, "FunctionName", "${Function}"]
                for metric in ("Invocations", "Errors", "Throttles", "ConcurrentExecutions")
            ],
            12,
            12,
        ),
        widget(
            "payment_fn cold starts (Powertools)",
            [
                [
                    names.METRICS_NAMESPACE,
                    "ColdStart",
                    "function_name",
                    "${Function}",
                    "service",
                    names.PAYMENT_FN,
                ],
            ],
            0,
            18,
        ),
    ]
    return {"widgets": widgets}
