"""payment_fn: the payment Lambda, fed by the payment queue, with a failure queue for async invokes.

The code is the zip built by scripts/package_payment_fn.py, read from S3 (CodeS3Bucket/CodeS3Key).
The deploy tool uploads it under a content-addressed key, so new code is a parameter change and
an unchanged zip is no change at all. Locally the bucket lives in LocalStack's S3.
"""

from __future__ import annotations

from troposphere import Equals, GetAtt, If, Not, NoValue, Ref, Sub, Template
from troposphere.awslambda import (
    Code,
    DestinationConfig,
    Environment,
    EventInvokeConfig,
    EventSourceMapping,
    Function,
    OnFailure,
    ScalingConfig,
    TracingConfig,
)
from troposphere.logs import LogGroup
from troposphere.sqs import Queue
from troposphere.validators import integer

from flashsale_stacks import iam, names
from flashsale_stacks.common import (
    ENV_PARAM,
    LOG_GROUP_NOT_KMS,
    SQS_MANAGED_SSE,
    add_number,
    add_output,
    add_parameter,
    add_retention,
    checkov_skip,
    disposable,
    import_value,
    log_group_arn,
    name,
    new_template,
    tags,
)

LOG_GROUP_NAME = f"/aws/lambda/${{{ENV_PARAM}}}-{names.PAYMENT_FN}"


class SqsScalingConfig(ScalingConfig):
    """The event source mapping's ScalingConfig (troposphere's class of that name carries another
    resource's property)."""

    props = {"MaximumConcurrency": (integer, False)}


def build() -> Template:
    t = new_template(
        "flash-sale payment_fn: the payment Lambda (Powertools), its SQS trigger and failure queue"
    )
    bucket = add_parameter(t, "CodeS3Bucket", "Bucket holding the payment_fn zip")
    key = add_parameter(t, "CodeS3Key", "Key of the payment_fn zip (content-addressed)")
    memory = add_number(t, "MemorySize", "Lambda memory (MB)", 512, minimum=128)
    timeout = add_number(
        t,
        "TimeoutSeconds",
        "Lambda timeout; keep the payment queue's visibility timeout at 6x this",
        60,
        minimum=5,
        maximum=900,
    )
    reserved = add_number(
        t,
        "ReservedConcurrency",
        "Reserved concurrent executions; -1 leaves the function unreserved",
        -1,
        minimum=-1,
    )
    batch_size = add_number(
        t,
        "BatchSize",
        "SQS records per invocation (above 10 needs a batching window of at least 1 s)",
        10,
        minimum=1,
        maximum=10000,
    )
    batching_window = add_number(
        t,
        "MaximumBatchingWindowSeconds",
        "Seconds the event source mapping may wait to fill a batch",
        0,
        minimum=0,
        maximum=300,
    )
    max_concurrency = add_number(
        t,
        "MaximumConcurrency",
        "Most batches the SQS trigger invokes at once (2-1000); 0 leaves it unlimited",
        0,
        minimum=0,
        maximum=1000,
    )
    async_retries = add_number(
        t,
        "AsyncMaximumRetryAttempts",
        "Retries of a failed asynchronous (SNS) invoke before it goes to the failure queue",
        2,
        minimum=0,
        maximum=2,
    )
    latency = add_parameter(t, "PaymentLatencySeconds", "Simulated gateway latency", Default="3.0")
    concurrency = add_number(
        t,
        "PaymentConcurrency",
        "Concurrent payments inside one Lambda environment (records of a batch)",
        10,
        minimum=1,
    )
    decline_rate = add_parameter(t, "PaymentDeclineRate", "Share of declined payments", Default="0")
    decline_customers = add_parameter(
        t,
        "PaymentDeclineCustomerIds",
        "Customers whose charges are always declined (comma-separated test ids; 'none'; empty:"
        " the environment's default, 4000000002 when EnvName is local)",
        Default="",
    )
    error_rate = add_parameter(
        t, "PaymentErrorRate", "Share of gateway errors (fault injection)", Default="0"
    )
    log_level = add_parameter(
        t,
        "LogLevel",
        "Powertools log level",
        Default="INFO",
        AllowedValues=["DEBUG", "INFO", "WARNING", "ERROR"],
    )
    retention = add_retention(t, "the function")
    dynamodb_endpoint = add_parameter(
        t,
        "DynamoDbEndpoint",
        "Local only: AWS_ENDPOINT_URL_DYNAMODB for the function (empty on AWS)",
        Default="",
    )
    t.add_condition("Reserved", Not(Equals(Ref(reserved), -1)))
    t.add_condition("ConcurrencyLimited", Not(Equals(Ref(max_concurrency), 0)))
    t.add_condition("CustomDynamoDbEndpoint", Not(Equals(Ref(dynamodb_endpoint), "")))

    log_group = t.add_resource(
        disposable(
            LogGroup("LogGroup", LogGroupName=Sub(LOG_GROUP_NAME), RetentionInDays=Ref(retention))
        )
    )
    failures = t.add_resource(
        disposable(
            Queue(
                "FailureQueue",
                QueueName=name(names.PAYMENT_FN_FAILURES),
                MessageRetentionPeriod=14 * 24 * 3600,
                SqsManagedSseEnabled=True,
                Tags=tags("payment_fn"),
            )
        )
    )
    checkov_skip(failures, SQS_MANAGED_SSE)
    checkov_skip(log_group, {"CKV_AWS_158": LOG_GROUP_NOT_KMS})
    payment_queue_arn = import_value(names.queue_export(names.PAYMENT_QUEUE, "arn"))
    role = t.add_resource(
        iam.service_role(
            "Role",
            "lambda.amazonaws.com",
            "payment-fn",
            [
                iam.statement(
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [log_group_arn(LOG_GROUP_NAME)],
                ),
                iam.statement(iam.SQS_CONSUME, [payment_queue_arn]),
                iam.statement(["sqs:SendMessage"], [GetAtt(failures, "Arn")]),
                iam.table_statement(iam.ORDERS_DECIDE, names.ORDERS_TABLE),
                iam.table_statement(iam.STOCK_MOVE, names.PRODUCTS_TABLE),
                *iam.ledger_statements(),
                # Powertools idempotency records
                iam.table_statement(iam.IDEMPOTENCY_RECORDS, names.IDEMPOTENCY_TABLE),
                iam.xray_statement(),
            ],
        )
    )

    variables = {
        "ENV_NAME": Ref(ENV_PARAM),
        "ORDERS_TABLE": name(names.ORDERS_TABLE),
        "PRODUCTS_TABLE": name(names.PRODUCTS_TABLE),
        "IDEMPOTENCY_TABLE": name(names.IDEMPOTENCY_TABLE),
        "PAYMENTS_TABLE": name(names.PAYMENTS_TABLE),
        "PAYMENT_LATENCY_SECONDS": Ref(latency),
        "PAYMENT_CONCURRENCY": Ref(concurrency),
        "PAYMENT_DECLINE_RATE": Ref(decline_rate),
        "PAYMENT_DECLINE_CUSTOMER_IDS": Ref(decline_customers),
        "PAYMENT_ERROR_RATE": Ref(error_rate),
        "POWERTOOLS_SERVICE_NAME": names.PAYMENT_FN,
        "POWERTOOLS_METRICS_NAMESPACE": names.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": Ref(log_level),
    }
    function = t.add_resource(
        Function(
            "Function",
            FunctionName=name(names.PAYMENT_FN),
            Runtime=names.PAYMENT_FN_RUNTIME,
            Handler=names.PAYMENT_FN_HANDLER,
            Code=Code(S3Bucket=Ref(bucket), S3Key=Ref(key)),
            Role=GetAtt(role, "Arn"),
            MemorySize=Ref(memory),
            Timeout=Ref(timeout),
            ReservedConcurrentExecutions=If("Reserved", Ref(reserved), NoValue),
            TracingConfig=TracingConfig(Mode="Active"),
            Environment=Environment(
                Variables=If(
                    "CustomDynamoDbEndpoint",
                    {**variables, "AWS_ENDPOINT_URL_DYNAMODB": Ref(dynamodb_endpoint)},
                    variables,
                )
            ),
            Tags=tags("payment_fn"),
            DependsOn=[log_group.title],
        )
    )
    checkov_skip(
        function,
        {
            "CKV_AWS_116": "SQS invokes it: failed messages go to the payment queue's DLQ "
            "(redrive policy), failed async invokes to FailureQueue (an on-failure destination)",
            "CKV_AWS_117": "it calls only AWS APIs (DynamoDB, SQS, X-Ray); a VPC would add NAT "
            "cost and cold-start time and protect nothing it reaches",
            "CKV_AWS_173": "its environment holds table names and gateway knobs, no secret; "
            "Lambda encrypts it at rest with an AWS managed key",
        },
    )
    t.add_resource(
        EventInvokeConfig(
            "AsyncInvokeConfig",
            FunctionName=Ref(function),
            Qualifier="$LATEST",
            MaximumRetryAttempts=Ref(async_retries),
            DestinationConfig=DestinationConfig(
                OnFailure=OnFailure(Destination=GetAtt(failures, "Arn"))
            ),
        )
    )
    mapping = t.add_resource(
        EventSourceMapping(
            "PaymentQueueMapping",
            EventSourceArn=payment_queue_arn,
            FunctionName=Ref(function),
            BatchSize=Ref(batch_size),
            MaximumBatchingWindowInSeconds=Ref(batching_window),
            FunctionResponseTypes=["ReportBatchItemFailures"],
            ScalingConfig=If(
                "ConcurrencyLimited",
                SqsScalingConfig(MaximumConcurrency=Ref(max_concurrency)),
                NoValue,
            ),
            Enabled=True,
        )
    )

    add_output(t, "FunctionName", Ref(function), "payment Lambda name", names.PAYMENT_FN_NAME)
    add_output(
        t, "FunctionArn", GetAtt(function, "Arn"), "payment Lambda ARN", names.PAYMENT_FN_ARN
    )
    add_output(
        t,
        "FailureQueueUrl",
        Ref(failures),
        "failed asynchronous invokes",
        names.queue_export(names.PAYMENT_FN_FAILURES, "url"),
    )
    add_output(
        t,
        "FailureQueueName",
        GetAtt(failures, "QueueName"),
        "failed asynchronous invokes (queue name)",
        names.queue_export(names.PAYMENT_FN_FAILURES, "name"),
    )
    add_output(t, "EventSourceMappingId", Ref(mapping), "payment queue -> Lambda mapping")
    return t
