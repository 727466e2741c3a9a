"""The runtime shim and its process, against a fake of LocalStack's executor endpoint.

Each test starts the real shim as a subprocess (through ShimProcess, as the executor does) with
the environment the executor builds, then plays LocalStack: POST /invoke, and collect the
shim's callbacks (status ready/error, invocation logs/response/error).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

try:
    import localaws_lambda_executor  # noqa: F401
except ModuleNotFoundError:  # the executor is installed in LocalStack's venv, not in this one
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lambda_executor"))

from localaws_lambda_executor import shim
from localaws_lambda_executor.environment import build_environment
from localaws_lambda_executor.process import ShimProcess

PACKAGE_PARENT = Path(shim.__file__).resolve().parents[1]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
RUNTIME = f"python{sys.version_info[0]}.{sys.version_info[1]}"

APP = """
import logging, os, subprocess, sys, time
import layered

print("init output")


class PaymentDeclined(Exception):
    pass


def _charge(amount):
    raise PaymentDeclined(f"card declined for {amount}")


def echo(event, context):
    print("handler says", event["say"])
    logging.getLogger("app").warning("logged %s", event["say"])
    subprocess.run(["echo", "from a child process"], check=True)
    return {
        "event": event,
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "layered": layered.WHERE,
        "internal": sorted(name for name in os.environ if name.startswith("LOCALAWS_")),
        "sys_path": sys.path,
        "cwd": os.getcwd(),
    }


def fail(event, context):
    _charge(event.get("amount", 1))


def sleep(event, context):
    time.sleep(event["seconds"])
    return "woke up"


def unserializable(event, context):
    return {1, 2}


def spawn(event, context):
    child = subprocess.Popen(["sleep", "60"])
    return {"pid": os.getpid(), "child": child.pid}


def exit(event, context):
    os._exit(event["code"])
"""

# Parent of a shim, standing in for LocalStack: killed with SIGKILL by a test.
PARENT = """
import json, sys
from localaws_lambda_executor.process import ShimProcess
python, env, cwd = json.loads(sys.argv[1])
process = ShimProcess(python, env, cwd)
process.start()
print(json.dumps({"pid": process.pid, "port": process.port}), flush=True)
sys.stdin.read()
"""


class FakeLocalStack:
    """Records the POSTs LocalStack's executor endpoint would receive."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        self.changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake.changed:
                    fake.posts.append((self.path, body))
                    fake.changed.notify_all()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def runtime_endpoint(self, runtime_id: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/_localstack_lambda/{runtime_id}"

    def wait_for(self, pattern: str, timeout: float = 10.0) -> tuple[str, bytes]:
        """The first POST whose path matches `pattern` (a regex), waiting up to `timeout` s."""

        def find() -> tuple[str, bytes] | None:
            return next((post for post in self.posts if re.search(pattern, post[0])), None)

        with self.changed:
            found = self.changed.wait_for(find, timeout)
        assert found, f"no POST matching {pattern} within {timeout} s: {[p for p, _ in self.posts]}"
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Outcome:
    kind: str  # "response" or "error"
    body: object
    logs: str


@dataclass
class Shim:
    process: ShimProcess
    fake: FakeLocalStack
    runtime_id: str

    def status(self) -> tuple[str, bytes]:
        return self.fake.wait_for(rf"/{self.runtime_id}/status/{self.runtime_id}/(ready|error)$")

    def ready(self) -> Shim:
        path, body = self.status()
        assert path.endswith("/ready"), body
        return self

    def send(self, event: object, request_id: str, trace: str | None = None) -> None:
        invocation = {
            "invoke-id": request_id,
            "invoked-function-arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
            "payload": json.dumps(event),
            "trace-id": trace,
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.process.port}/invoke",
            data=json.dumps(invocation).encode(),
            method="POST",
        )
        with NO_PROXY.open(request, timeout=10) as response:
            assert response.status == 200

    def invoke(self, event: object, trace: str | None = None, timeout: float = 10.0) -> Outcome:
        request_id = str(uuid.uuid4())
        self.send(event, request_id, trace)
        prefix = rf"/{self.runtime_id}/invocations/{request_id}"
        path, body = self.fake.wait_for(rf"{prefix}/(response|error)$", timeout)
        _, logs = self.fake.wait_for(rf"{prefix}/logs$")
        return Outcome(path.rsplit("/", 1)[1], json.loads(body), json.loads(logs)["logs"])


@pytest.fixture
def fake() -> Iterator[FakeLocalStack]:
    server = FakeLocalStack()
    yield server
    server.close()


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(APP)
    (code / "broken.py").write_text("def handler(event, context)\n    return 1\n")
    for layer in ("layer1", "layer2"):
        (tmp_path / layer / "python").mkdir(parents=True)
        (tmp_path / layer / "python" / "layered.py").write_text(f"WHERE = {layer!r}\n")
    return code


def shim_env(
    fake: FakeLocalStack, code: Path, runtime_id: str, runtime: str = RUNTIME, **extra: object
) -> dict[str, str]:
    localstack_env = {
        "LOCALSTACK_RUNTIME_ENDPOINT": fake.runtime_endpoint(runtime_id),
        "LOCALSTACK_RUNTIME_ID": runtime_id,
        "_HANDLER": "app.echo",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": 10,
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": 256,
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]abc",
        **extra,
    }
    return build_environment(
        runtime=runtime,
        runtime_env=localstack_env,
        function_env={},
        host_env=os.environ,
        task_root=code,
        layer_dirs=[code.parent / "layer1", code.parent / "layer2"],
    )


@pytest.fixture
def start_shim(fake: FakeLocalStack, code_dir: Path) -> Iterator[Callable[..., Shim]]:
    started: list[ShimProcess] = []

    def start(on_exit=None, **env: object) -> Shim:
        runtime_id = uuid.uuid4().hex
        process = ShimProcess(
            sys.executable, shim_env(fake, code_dir, runtime_id, **env), code_dir, on_exit=on_exit
        )
        process.start()
        started.append(process)
        return Shim(process, fake, runtime_id)

    yield start
    for process in started:
        process.stop(grace=1.0)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# protocol ---------------------------------------------------------------------------------------
def test_result_context_environment_and_logs(start_shim, code_dir):
    shim_ = start_shim().ready()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    outcome = shim_.invoke({"say": "hello"}, trace=trace)

    assert outcome.kind == "response"
    result = outcome.body
    assert result["event"] == {"say": "hello"}
    assert result["function_name"] == "fn"
    assert result["function_version"] == "$LATEST"
    assert result["invoked_function_arn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert result["memory_limit_in_mb"] == "256"
    assert result["log_group_name"] == "/aws/lambda/fn"
    assert result["log_stream_name"] == "2024/01/01/[$LATEST]abc"
    assert 0 < result["remaining_ms"] <= 10_000
    assert result["trace"] == trace
    assert result["layered"] == "layer2"  # the later layer wins, as when unzipped into /opt
    assert result["internal"] == []
    assert result["sys_path"][0] == str(code_dir)
    assert str(Path(shim.__file__).parent) not in result["sys_path"]
    assert result["cwd"] == str(code_dir)

    logs = outcome.logs
    request_id = result["aws_request_id"]
    assert logs.startswith("init output\n")
    assert f"START RequestId: {request_id} Version: $LATEST\n" in logs
    assert "handler says hello\n" in logs
    assert re.search(rf"\[WARNING\]\t\S+Z\t{request_id}\tlogged hello\n", logs)
    assert "from a child process\n" in logs
    assert f"END RequestId: {request_id}\n" in logs
    assert re.search(rf"REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\t.*Init Duration", logs)

    second = shim_.invoke({"say": "again"})
    assert second.kind == "response"
    assert "init output" not in second.logs and "Init Duration" not in second.logs
    assert second.logs.startswith(f"START RequestId: {second.body['aws_request_id']}")
    assert second.body["trace"] is None


def test_unhandled_error_has_the_handlers_type_message_and_stack(start_shim, code_dir):
    outcome = start_shim(_HANDLER="app.fail").ready().invoke({"amount": 42})

    assert outcome.kind == "error"
    error = outcome.body
    assert error["errorType"] == "PaymentDeclined"
    assert error["errorMessage"] == "card declined for 42"
    frames = error["stackTrace"]
    app = str(code_dir / "app.py")
    assert [frame.split(",")[0] for frame in frames] == [f'  File "{app}"'] * 2
    assert "in fail" in frames[0] and 'raise PaymentDeclined(f"card declined' in frames[1]
    assert "[ERROR] PaymentDeclined: card declined for 42\nTraceback" in outcome.logs
    assert "shim.py" not in outcome.logs


def test_unserializable_result_is_a_marshal_error(start_shim):
    outcome = start_shim(_HANDLER="app.unserializable").ready().invoke({})
    assert outcome.kind == "error"
    assert outcome.body["errorType"] == "Runtime.MarshalError"
    assert "Unable to marshal response" in outcome.body["errorMessage"]


def test_timeout_is_reported_as_the_sandbox_does(start_shim):
    outcome = (
        start_shim(_HANDLER="app.sleep", AWS_LAMBDA_FUNCTION_TIMEOUT=1)
        .ready()
        .invoke({"seconds": 30})
    )
    assert outcome.kind == "error"
    assert outcome.body["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        r"\S+Z [-\w]+ Task timed out after 1\.00 seconds", outcome.body["errorMessage"]
    )
    assert "Task timed out after 1.00 seconds\n" in outcome.logs
    assert "\tStatus: timeout" in outcome.logs


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing': No"),
        ("app.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"),
        ("broken.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'broken'"),
        ("nodots", "Runtime.MalformedHandlerName", "Bad handler 'nodots'"),
    ],
)
def test_init_errors_are_reported_on_the_status_endpoint(start_shim, handler, error_type, message):
    shim_ = start_shim(_HANDLER=handler)
    path, body = shim_.status()
    assert path.endswith("/error")
    error = json.loads(body)
    assert error["errorType"] == error_type
    assert error["errorMessage"].startswith(message)
    wait_until(lambda: shim_.process.returncode == 1)


def test_a_runtime_version_mismatch_is_logged(start_shim):
    outcome = start_shim(runtime="python3.99").ready().invoke({"say": "x"})
    assert f"localaws: python3.99 function runs on {RUNTIME}" in outcome.logs
    assert "LAMBDA_LOCAL_PYTHON_3_99" in outcome.logs


# payload helpers --------------------------------------------------------------------------------
def test_exit_errors_name_the_status_or_signal():
    assert shim.exit_error("r1", 3) == {
        "errorMessage": "RequestId: r1 Error: Runtime exited with error: exit status 3",
        "errorType": "Runtime.ExitError",
        "requestId": "r1",
        "stackTrace": [],
    }
    killed = shim.exit_error("r1", -signal.SIGKILL)["errorMessage"]
    assert killed.endswith("Runtime exited with error: signal: killed")


def test_timeout_message_has_the_localstack_shape():
    message = shim.timeout_message("r1", 3, now=0)
    assert message == "1970-01-01T00:00:00Z r1 Task timed out after 3.00 seconds"


def test_sync_mark_prefixes_are_held_back():
    mark = shim._SYNC_MARK
    assert shim._partial_mark(b"text" + mark[:3]) == 3
    assert shim._partial_mark(b"text") == 0
    assert shim._partial_mark(b"") == 0


# process lifecycle ------------------------------------------------------------------------------
def test_stop_ends_the_whole_process_group(start_shim):
    shim_ = start_shim(_HANDLER="app.spawn").ready()
    pids = shim_.invoke({}).body
    assert alive(pids["pid"]) and alive(pids["child"])
    shim_.process.stop(grace=2.0)
    assert not shim_.process.is_alive()
    wait_until(lambda: not alive(pids["child"]))


def test_an_unexpected_exit_is_reported(start_shim):
    exits: list[tuple[ShimProcess, int]] = []
    exited = threading.Event()

    def on_exit(process: ShimProcess, returncode: int) -> None:
        exits.append((process, returncode))
        exited.set()

    shim_ = start_shim(_HANDLER="app.exit", on_exit=on_exit).ready()
    shim_.send({"code": 3}, request_id="r1")
    assert exited.wait(10)
    assert exits == [(shim_.process, 3)]
    # what the handler wrote just before os._exit may or may not have been echoed: not asserted


def test_the_group_dies_with_its_parent(fake, code_dir):
    """No orphans even when the host process (LocalStack) is killed without a chance to clean up."""
    runtime_id = uuid.uuid4().hex
    arguments = json.dumps(
        [sys.executable, shim_env(fake, code_dir, runtime_id, _HANDLER="app.spawn"), str(code_dir)]
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(PACKAGE_PARENT)},
        text=True,
    )
    try:
        started = json.loads(parent.stdout.readline())
        process = ShimProcess(sys.executable, {}, code_dir)
        process.port = started["port"]
        shim_ = Shim(process, fake, runtime_id).ready()
        pids = shim_.invoke({}).body
        assert alive(pids["pid"]) and alive(pids["child"])
    finally:
        parent.kill()
        parent.wait()
        parent.stdin.close()
        parent.stdout.close()
    wait_until(lambda: not alive(pids["pid"]) and not alive(pids["child"]))
