"""Direct invocations of Python functions on LocalStack's local Lambda executor."""

from __future__ import annotations

import base64
import json
import os
from urllib.parse import urlsplit

from integration import lambda_support as support
from integration.lambda_support import (
    Functions,
    client,
    endpoint,
    process_running,
    unique,
    zip_files,
)

from flashsale_kit.polling import wait_until

lam, functions = support.lam, support.functions  # fixtures

TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793"
HANDLERS_V2 = """
import os


def describe(event, context):
    env = {"LOCALSTACK_RUNTIME_ID": os.environ["LOCALSTACK_RUNTIME_ID"]}
    return {"version": 2, "pid": os.getpid(), "env": env}
"""


def invoke(lambda_client, name: str, event: object, **kwargs) -> tuple[dict, object]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_result_context_and_environment(lam, functions: Functions):
    name = functions.create("describe", env={"GREETING": "hello"})
    traced = client("lambda")
    header = f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1"

    def add_trace_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = header

    traced.meta.events.register("before-sign.lambda.Invoke", add_trace_header)
    response, result = invoke(traced, name, {"order_id": "o-1"})

    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert result["event"] == {"order_id": "o-1"}
    context, env = result["context"], result["env"]
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"].endswith(f":function:{name}")
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert context["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert 0 < context["remaining_ms"] <= 10_000
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["GREETING"] == "hello"
    assert env["_HANDLER"] == "handler.describe"
    assert env["_X_AMZN_TRACE_ID"].startswith(f"Root={TRACE_ROOT};")
    # boto3 in the handler reaches the local platform: LocalStack itself, and moto for DynamoDB
    assert urlsplit(env["AWS_ENDPOINT_URL"]).port == urlsplit(endpoint()).port
    moto = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4567")
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == moto
    assert result["account"] == "000000000000"


def test_unhandled_error_keeps_the_handlers_type_message_and_stack(lam, functions: Functions):
    name = functions.create("fail")
    response, error = invoke(lam, name, {"amount": 42})

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "card declined for 42"
    frames = error["stackTrace"]
    assert len(frames) == 2
    assert all('handler.py", line' in frame for frame in frames)
    assert "in fail" in frames[0] and "in _charge" in frames[1]


def test_init_errors_are_reported_as_the_runtime_does(lam, functions: Functions):
    name = functions.create("nowhere")
    response, error = invoke(lam, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'nowhere' missing on module 'handler'"


def test_timeout_then_a_fresh_process_serves_the_next_invoke(lam, functions: Functions):
    name = functions.create("sleep", timeout=1)
    _, first = invoke(lam, name, {"seconds": 0})

    response, error = invoke(lam, name, {"seconds": 30}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "Status: timeout" in base64.b64decode(response["LogResult"]).decode()

    response, after = invoke(lam, name, {"seconds": 0})
    assert "FunctionError" not in response
    assert after["pid"] != first["pid"]


def test_a_crash_is_reported_and_the_next_invoke_gets_a_fresh_process(lam, functions: Functions):
    name = functions.create("crash")
    _, before = invoke(lam, name, {})
    response, error = invoke(lam, name, {"code": 3})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Runtime exited with error: exit status 3")

    response, after = invoke(lam, name, {})
    assert "FunctionError" not in response, after
    assert after["pid"] != before["pid"]


def test_a_handler_holding_the_gil_is_still_timed_out(lam, functions: Functions):
    """The shim cannot report this timeout itself: the executor's own deadline does."""
    name = functions.create("hog", timeout=1)
    response, error = invoke(lam, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_output_reaches_cloudwatch_logs(lam, functions: Functions):
    name = functions.create("log")
    marker = unique("marker")
    response, _ = invoke(lam, name, {"marker": marker}, LogType="Tail")
    assert f"printed {marker}" in base64.b64decode(response["LogResult"]).decode()

    logs = client("logs")

    def messages() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        text = [event["message"] for event in events]
        return text if any("REPORT RequestId" in line for line in text) else []

    lines = wait_until(messages)
    assert f"printed {marker}\n" in lines
    assert any(line.startswith("[INFO]\t") and f"logged {marker}" in line for line in lines)
    assert any(line.startswith("START RequestId:") for line in lines)
    assert any(line.startswith("END RequestId:") for line in lines)


def test_layer_contents_are_importable(lam, functions: Functions):
    layer = lam.publish_layer_version(
        LayerName=unique("it-layer"),
        Content={"ZipFile": zip_files({"python/layer_module.py": "VALUE = 'from the layer'\n"})},
        CompatibleRuntimes=["python3.11"],
    )
    try:
        name = functions.create("layered", layers=[layer["LayerVersionArn"]])
        response, result = invoke(lam, name, {})
        assert "FunctionError" not in response, result
        assert result == "from the layer"
    finally:
        lam.delete_layer_version(LayerName=layer["LayerArn"], VersionNumber=layer["Version"])


def test_processes_stop_on_update_and_delete(lam, functions: Functions):
    name = functions.create("describe")
    _, before = invoke(lam, name, {})
    old = (before["pid"], before["env"]["LOCALSTACK_RUNTIME_ID"])
    assert process_running(*old)

    lam.update_function_code(FunctionName=name, ZipFile=zip_files({"handler.py": HANDLERS_V2}))
    functions.wait_for_update(name)
    _, after = invoke(lam, name, {})
    assert after["version"] == 2
    new = (after["pid"], after["env"]["LOCALSTACK_RUNTIME_ID"])
    wait_until(lambda: not process_running(*old))

    lam.delete_function(FunctionName=name)
    wait_until(lambda: not process_running(*new))


def test_non_python_runtimes_fail_with_a_clear_reason(functions: Functions):
    name = functions.create("describe", runtime="nodejs20.x", wait=False)
    config = functions.wait_for_state(name, "Failed")
    assert "not supported by the local Lambda executor" in config["StateReason"]
