"""Deploy the payment_fn stack on LocalStack from the packaged zip and check what it wired:
the code LocalStack holds is our zip, the environment reaches moto, the SQS trigger reports
partial batch failures, failed async invokes go to the failure queue.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashsale_stacks.cli import LOCAL_MAX_CONCURRENCY, main
from flashsale_stacks.targets import Target

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env_name(code_zip: Path, target: Target) -> Iterator[str]:
    name = f"it{uuid.uuid4().hex[:8]}"
    for key in ("messaging", "payment_fn"):
        args = ["deploy", key, "--env", "local", "--env-name", name, "--code", str(code_zip)]
        assert main(args) == 0
    yield name
    for key in ("payment_fn", "messaging"):
        main(["delete", key, "--env", "local", "--env-name", name])


def test_the_function_runs_the_packaged_zip(env_name: str, code_zip: Path, target: Target) -> None:
    config = target.client("lambda").get_function_configuration(
        FunctionName=f"{env_name}-payment-fn"
    )
    expected = base64.b64encode(hashlib.sha256(code_zip.read_bytes()).digest()).decode()
    assert config["CodeSha256"] == expected
    assert config["Handler"] == "payment_fn.handler.lambda_handler"
    assert config["Runtime"] == "python3.11"
    assert config["TracingConfig"] == {"Mode": "Active"}
    variables = config["Environment"]["Variables"]
    assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == target.moto_url
    assert variables["ORDERS_TABLE"] == f"{env_name}-orders"
    assert variables["IDEMPOTENCY_TABLE"] == f"{env_name}-idempotency"
    assert variables["PAYMENTS_TABLE"] == f"{env_name}-payments"


def test_the_payment_queue_triggers_it_with_partial_batch_failures(
    env_name: str, target: Target
) -> None:
    lam = target.client("lambda")
    (mapping,) = lam.list_event_source_mappings(FunctionName=f"{env_name}-payment-fn")[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"].endswith(f":{env_name}-payment-queue")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": int(LOCAL_MAX_CONCURRENCY)}


def test_failed_async_invokes_go_to_the_failure_queue(env_name: str, target: Target) -> None:
    config = target.client("lambda").get_function_event_invoke_config(
        FunctionName=f"{env_name}-payment-fn"
    )
    assert config["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        f":{env_name}-payment-fn-failures"
    )


def test_an_unchanged_zip_is_an_unchanged_stack(
    env_name: str, code_zip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["deploy", "payment_fn", "--env", "local", "--env-name", env_name]
    assert main([*args, "--code", str(code_zip)]) == 0
    assert f"{env_name}-payment-fn: no changes" in capsys.readouterr().out
