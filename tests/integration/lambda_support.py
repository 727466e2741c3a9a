"""Helpers for the Lambda executor's integration tests: clients, test functions, cleanup.

The endpoint is AWS_ENDPOINT_URL (default http://127.0.0.1:4566). Functions, queues, topics and
layers get unique names and are deleted after each test.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from flashsale_kit.polling import wait_until

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

# One module, several handlers: the tests pick one with `Handler=`.
HANDLERS = '''
import json
import logging
import os
import time

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)


CONTEXT_FIELDS = (
    "aws_request_id", "function_name", "function_version", "invoked_function_arn",
    "memory_limit_in_mb", "log_group_name", "log_stream_name",
)


def describe(event, context):
    names = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION",
        "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
        "_X_AMZN_TRACE_ID", "_HANDLER", "LOCALSTACK_RUNTIME_ID", "GREETING",
    ]
    return {
        "event": event,
        "context": {
            **{field: getattr(context, field) for field in CONTEXT_FIELDS},
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
        "env": {name: os.environ.get(name) for name in names},
        "account": boto3.client("sts").get_caller_identity()["Account"],
        "pid": os.getpid(),
    }


def _charge(amount):
    raise ValueError(f"card declined for {amount}")


def fail(event, context):
    _charge(event["amount"])


def sleep(event, context):
    time.sleep(event["seconds"])
    return {"pid": os.getpid()}


def crash(event, context):
    if "code" in event:
        os._exit(event["code"])
    return {"pid": os.getpid()}


def hog(event, context):
    import re

    # catastrophic backtracking: the regex engine never releases the GIL
    re.match(r"(a+)+$", "a" * 64 + "b")


def log(event, context):
    print("printed", event["marker"])
    logger.info("logged %s", event["marker"])
    return "ok"


def layered(event, context):
    import layer_module

    return layer_module.VALUE


def records(event, context):
    """SNS or SQS records -> one note per record on SINK_URL; `fail-*` SQS bodies fail once,
    `poison-*` ones always."""
    sqs = boto3.client("sqs")
    failures = []
    for record in event.get("Records", []):
        if "Sns" in record:
            body, attempt = record["Sns"]["Message"], 1
        else:
            body = record["body"]
            attempt = int(record["attributes"]["ApproximateReceiveCount"])
        note = json.dumps({"body": body, "attempt": attempt})
        sqs.send_message(QueueUrl=os.environ["SINK_URL"], MessageBody=note)
        if body.startswith("poison") or (body.startswith("fail") and attempt == 1):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def hold(event, context):
    """SQS records -> one note for the batch on SINK_URL: its bodies, pid and time span."""
    started = time.time()
    time.sleep(float(os.environ.get("HOLD_SECONDS", "0")))
    note = {
        "bodies": [record["body"] for record in event["Records"]],
        "pid": os.getpid(),
        "start": started,
        "end": time.time(),
    }
    boto3.client("sqs").send_message(QueueUrl=os.environ["SINK_URL"], MessageBody=json.dumps(note))
'''


def endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")


def client(service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint(),
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(retries={"max_attempts": 2}, read_timeout=70),
    )


def zip_files(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def process_running(pid: int, runtime_id: str) -> bool:
    """Whether `pid` is still the runtime process of execution environment `runtime_id`."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return status != "Z" and f"LOCALSTACK_RUNTIME_ID={runtime_id}".encode() in environ


class Functions:
    """Creates test functions (waiting until Active) and deletes them afterwards."""

    def __init__(self, lam: Any) -> None:
        self.lam = lam
        self.names: list[str] = []

    def create(
        self,
        handler: str,
        *,
        timeout: int = 10,
        env: dict[str, str] | None = None,
        layers: list[str] | None = None,
        runtime: str = "python3.11",
        wait: bool = True,
    ) -> str:
        name = unique("it-fn")
        self.lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=ROLE,
            Handler=f"handler.{handler}",
            Code={"ZipFile": zip_files({"handler.py": HANDLERS})},
            Timeout=timeout,
            MemorySize=256,
            Environment={"Variables": env or {}},
            Layers=layers or [],
        )
        self.names.append(name)
        if wait:
            self.wait_for_state(name, "Active")
        return name

    def wait_for_state(self, name: str, state: str) -> dict:
        def settled() -> dict | None:
            config = self.lam.get_function_configuration(FunctionName=name)
            return config if config["State"] != "Pending" else None

        config = wait_until(settled)
        assert config["State"] == state, config
        return config

    def wait_for_update(self, name: str) -> None:
        def done() -> bool:
            config = self.lam.get_function_configuration(FunctionName=name)
            return config.get("LastUpdateStatus") == "Successful"

        wait_until(done)

    def delete_all(self) -> None:
        for name in self.names:
            # LocalStack cannot delete a function whose creation failed (InternalError)
            with contextlib.suppress(ClientError):
                self.lam.delete_function(FunctionName=name)


@pytest.fixture(scope="session")
def lam() -> Any:
    return client("lambda")


@pytest.fixture(scope="session")
def sqs() -> Any:
    return client("sqs")


@pytest.fixture
def functions(lam: Any) -> Iterator[Functions]:
    created = Functions(lam)
    yield created
    created.delete_all()


@pytest.fixture
def queues(sqs: Any) -> Iterator[Callable[..., tuple[str, str]]]:
    """`queues(**attributes)` -> (url, arn) of a new queue, deleted after the test."""
    urls: list[str] = []

    def make(**attributes: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=unique("it-q"), Attributes=attributes)["QueueUrl"]
        urls.append(url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    yield make
    for url in urls:
        sqs.delete_queue(QueueUrl=url)
