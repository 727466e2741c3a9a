"""The order topic's fan-out as the messaging stack builds it, for tests on moto or LocalStack."""

from __future__ import annotations

import json
from typing import Any


def subscribe_route_queue(sns: Any, sqs: Any, topic_arn: str, queue_name: str, route: str) -> str:
    """Create `queue_name` and subscribe it to the topic with raw delivery and the filter policy
    that lets only `route`'s orders through; returns the queue URL."""
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"route": [route]})},
    )
    return url
