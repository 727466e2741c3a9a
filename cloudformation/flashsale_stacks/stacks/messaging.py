"""messaging: the order topic, one queue + DLQ per processing path, filtered subscriptions.

Both paths subscribe to the same topic; the `route` message attribute and the subscriptions'
filter policies decide which path handles an order, so no order reaches both queues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Ref, Template
from troposphere.sns import SubscriptionResource, Topic
from troposphere.sqs import Queue, QueuePolicy, RedrivePolicy

from flashsale_stacks import names
from flashsale_stacks.common import (
    SQS_MANAGED_SSE,
    add_number,
    add_output,
    checkov_skip,
    disposable,
    name,
    new_template,
    queue_arn,
    tags,
)

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the maximum: time to inspect and redrive


@dataclass(frozen=True)
class Path:
    """One processing path: a queue fed by the topic for one route, and its dead-letter queue."""

    logical_id: str  # e.g. "OrderQueue"; the DLQ is "<logical_id>Dlq" without "Queue"
    queue: str
    dlq: str
    route: str
    visibility_parameter: str
    visibility_default: int
    visibility_description: str

    @property
    def dlq_logical_id(self) -> str:
        return self.logical_id.removesuffix("Queue") + "Dlq"


PATHS = (
    Path(
        "OrderQueue",
        names.ORDER_QUEUE,
        names.ORDER_DLQ,
        names.ROUTE_ECS,
        "OrderQueueVisibilityTimeout",
        60,
        "Seconds a received order stays invisible; the processor extends it while paying",
    ),
    Path(
        "PaymentQueue",
        names.PAYMENT_QUEUE,
        names.PAYMENT_DLQ,
        names.ROUTE_LAMBDA,
        "PaymentQueueVisibilityTimeout",
        360,
        "Seconds a received order stays invisible; at least 6x the payment Lambda's timeout",
    ),
)


def build() -> Template:
    template = new_template(
        "flash-sale messaging: order topic, SQS queues with DLQs, filtered raw subscriptions"
    )
    max_receive = add_number(
        template,
        "MaxReceiveCount",
        "Receives before a message is moved to its dead-letter queue",
        5,
        minimum=1,
        maximum=1000,
    )
    retention = add_number(
        template,
        "MessageRetentionSeconds",
        "How long an unprocessed order stays in a queue",
        4 * 24 * 3600,
        minimum=60,
        maximum=DLQ_RETENTION_SECONDS,
    )

    topic = template.add_resource(
        checkov_skip(
            Topic("OrderTopic", TopicName=name(names.ORDER_TOPIC), Tags=tags("messaging")),
            {
                "CKV_AWS_26": "events carry order ids, items and totals, no card or personal "
                "data; SSE needs a customer key whose policy lets SNS deliver to the queues"
            },
        )
    )
    add_output(template, "OrderTopicArn", Ref(topic), "order events topic", names.ORDER_TOPIC_ARN)
    add_output(
        template,
        "OrderTopicName",
        GetAtt(topic, "TopicName"),
        "order events topic name",
        names.ORDER_TOPIC_NAME,
    )

    for path in PATHS:
        _add_path(template, path, topic, max_receive, retention)
    return template


def _add_path(
    template: Template, path: Path, topic: Topic, max_receive: object, retention: object
) -> None:
    visibility = add_number(
        template,
        path.visibility_parameter,
        path.visibility_description,
        path.visibility_default,
        minimum=30,
        maximum=43200,
    )
    dlq = template.add_resource(
        disposable(
            Queue(
                path.dlq_logical_id,
                QueueName=name(path.dlq),
                MessageRetentionPeriod=DLQ_RETENTION_SECONDS,
                SqsManagedSseEnabled=True,
                # only its own source queue may dead-letter into it (ARN by name: no cycle)
                RedriveAllowPolicy={
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [queue_arn(path.queue)],
                },
                Tags=tags("messaging"),
            )
        )
    )
    queue = template.add_resource(
        disposable(
            Queue(
                path.logical_id,
                QueueName=name(path.queue),
                VisibilityTimeout=Ref(visibility),
                ReceiveMessageWaitTimeSeconds=20,
                MessageRetentionPeriod=Ref(retention),
                SqsManagedSseEnabled=True,
                RedrivePolicy=RedrivePolicy(
                    deadLetterTargetArn=GetAtt(dlq, "Arn"), maxReceiveCount=Ref(max_receive)
                ),
                Tags=tags("messaging"),
            )
        )
    )
    for resource in (dlq, queue):
        checkov_skip(resource, SQS_MANAGED_SSE)
    template.add_resource(
        QueuePolicy(
            f"{path.logical_id}Policy",
            Queues=[Ref(queue)],
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "OrderTopicOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": GetAtt(queue, "Arn"),
                        "Condition": {"ArnEquals": {"aws:SourceArn": Ref(topic)}},
                    }
                ],
            },
        )
    )
    template.add_resource(
        SubscriptionResource(
            f"{path.logical_id}Subscription",
            TopicArn=Ref(topic),
            Protocol="sqs",
            Endpoint=GetAtt(queue, "Arn"),
            RawMessageDelivery=True,
            FilterPolicyScope="MessageAttributes",
            FilterPolicy={names.ROUTE_ATTRIBUTE: [path.route]},
            DependsOn=[f"{path.logical_id}Policy"],
        )
    )
    for logical_id, resource, suffix in (
        (path.logical_id, queue, path.queue),
        (path.dlq_logical_id, dlq, path.dlq),
    ):
        outputs: tuple[tuple[names.QueueAttribute, Any, str], ...] = (
            ("url", Ref(resource), "URL"),
            ("arn", GetAtt(resource, "Arn"), "ARN"),
            ("name", GetAtt(resource, "QueueName"), "name"),
        )
        for attribute, output_value, label in outputs:
            add_output(
                template,
                f"{logical_id}{attribute.capitalize()}",
                output_value,
                f"{suffix} {label}",
                names.queue_export(suffix, attribute),
            )
