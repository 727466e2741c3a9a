"""The Lambda runtime of one Python function, run as a local process by the executor.

Run as a script under the function's interpreter; stdlib only and free of import side effects
(the executor reuses its constants and payload helpers). It speaks the protocol of LocalStack's
lambda-runtime-init, the program that plays this part inside the Docker executor's containers:

    LocalStack -> shim  POST /invoke {"invoke-id", "invoked-function-arn", "payload", "trace-id"}
    shim -> LocalStack  POST $LOCALSTACK_RUNTIME_ENDPOINT/status/$LOCALSTACK_RUNTIME_ID/ready|error
                        POST $LOCALSTACK_RUNTIME_ENDPOINT/invocations/<id>/logs {"logs": "..."},
                        then .../invocations/<id>/response or .../invocations/<id>/error

Invocations run one at a time on the main thread. The shim enforces the function's timeout and
reports `Sandbox.Timedout`; the executor then discards the process, since a hung handler cannot
be stopped from inside. Whatever reaches file descriptors 1 and 2 (print, logging, subprocesses)
becomes the invocation's logs, START to REPORT; the first invocation also carries the init output.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import math
import os
import queue
import resource
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

LISTEN_FD_VAR = "LOCALAWS_SHIM_LISTEN_FD"  # inherited listening socket for /invoke
CONTROL_FD_VAR = "LOCALAWS_SHIM_CONTROL_FD"  # inherited pipe: end-of-file = the parent is gone
PATHS_VAR = "LOCALAWS_LAMBDA_PATHS"  # the handler's import path (os.pathsep-separated)
TIMEOUT_ERROR = "Sandbox.Timedout"
EXIT_ERROR = "Runtime.ExitError"

_THIS_FILE = os.path.abspath(__file__)
_SYNC_MARK = b"\x00\x1blocalaws-log-sync\x1b\x00"

Handler = Callable[[Any, Any], Any]


# error payloads, shaped as the Python runtime reports them ------------------------------------
def error_payload(
    error_type: str, message: str, request_id: str = "", stack_trace: list[str] | None = None
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace or [],
    }


def clean_stack(tb: Any) -> list[str]:
    """The handler's frames only, as the real runtime drops its bootstrap's frames."""
    frames = traceback.extract_tb(tb)
    kept = [frame for frame in frames if os.path.abspath(frame.filename) != _THIS_FILE]
    return traceback.format_list(traceback.StackSummary.from_list(kept))


def exception_error(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    return error_payload(type(exc).__name__, str(exc), request_id, clean_stack(exc.__traceback__))


def timeout_message(request_id: str, timeout_seconds: float, now: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return f"{stamp} {request_id} Task timed out after {timeout_seconds:.2f} seconds"


def timeout_error(request_id: str, timeout_seconds: float) -> dict[str, Any]:
    return error_payload(TIMEOUT_ERROR, timeout_message(request_id, timeout_seconds), request_id)


def exit_error(request_id: str, returncode: int) -> dict[str, Any]:
    """A runtime process that died mid-invocation (crash, os._exit, sys.exit, OOM kill)."""
    if returncode < 0:
        reason = f"signal: {(signal.strsignal(-returncode) or str(-returncode)).lower()}"
    else:
        reason = f"exit status {returncode}"
    message = f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
    return error_payload(EXIT_ERROR, message, request_id)


def error_log(payload: dict[str, Any]) -> str:
    """The log line(s) the runtime writes for an unhandled error."""
    text = f"[ERROR] {payload['errorType']}: {payload['errorMessage']}"
    if payload.get("stackTrace"):
        stack = "".join(payload["stackTrace"]).rstrip("\n")
        text += f"\nTraceback (most recent call last):\n{stack}"
    return text


# the handler ----------------------------------------------------------------------------------
class InitError(Exception):
    """The handler could not be loaded; `payload` is what the runtime reports."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload["errorMessage"])
        self.payload = payload


def load_handler(spec: str) -> Handler:
    """`package.module.function` -> the function, with the runtime's errors when that fails."""
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        message = f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)"
        raise InitError(error_payload("Runtime.MalformedHandlerName", message))
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        message = f"Syntax error in module '{module_name}': {exc}"
        raise InitError(error_payload("Runtime.UserCodeSyntaxError", message)) from exc
    except ImportError as exc:
        message = f"Unable to import module '{module_name}': {exc}"
        raise InitError(error_payload("Runtime.ImportModuleError", message)) from exc
    except Exception as exc:
        raise InitError(exception_error(exc)) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        raise InitError(error_payload("Runtime.HandlerNotFound", message))
    return handler


class LambdaContext:
    """The `context` argument of the Python runtime."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline: float) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = deadline  # time.monotonic() based

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, message: object) -> None:
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


# output ---------------------------------------------------------------------------------------
def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _partial_mark(data: bytes) -> int:
    """Length of the longest suffix of `data` that could begin a sync mark."""
    for size in range(min(len(data), len(_SYNC_MARK) - 1), 0, -1):
        if _SYNC_MARK.startswith(data[-size:]):
            return size
    return 0


class OutputCapture:
    """Points file descriptors 1 and 2 at a pipe and keeps what passes through it.

    What is kept is also echoed to the original stdout (the executor's diagnostics). `drain`
    writes a mark through the pipe and waits for it, so the logs it returns hold everything
    written before the call, whichever thread or process wrote it.
    """

    def __init__(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        read_fd, write_fd = os.pipe()
        self._echo_fd = os.dup(1)
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._read_fd = read_fd
        self._kept = bytearray()
        self._changed = threading.Condition()
        self._marks_seen = 0
        self._marks_sent = 0
        self._drain_lock = threading.Lock()
        threading.Thread(target=self._pump, name="output-capture", daemon=True).start()

    def echo(self, text: str) -> None:
        """A diagnostic for the executor only (not part of any invocation's logs)."""
        with contextlib.suppress(OSError):
            _write_all(self._echo_fd, text.encode("utf-8", "replace"))

    def drain(self, timeout: float = 5.0) -> str:
        """Everything written so far; the buffer starts empty again."""
        with self._drain_lock:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            self._marks_sent += 1
            target = self._marks_sent
            _write_all(1, _SYNC_MARK)
            with self._changed:
                self._changed.wait_for(lambda: self._marks_seen >= target, timeout)
                data = bytes(self._kept)
                self._kept.clear()
        return data.decode("utf-8", "replace")

    def _pump(self) -> None:
        pending = b""
        while True:
            chunk = os.read(self._read_fd, 65536)
            if not chunk:
                return
            pending += chunk
            index = pending.find(_SYNC_MARK)
            while index >= 0:
                self._keep(pending[:index], mark=True)
                pending = pending[index + len(_SYNC_MARK) :]
                index = pending.find(_SYNC_MARK)
            complete = len(pending) - _partial_mark(pending)
            self._keep(pending[:complete])
            pending = pending[complete:]

    def _keep(self, data: bytes, mark: bool = False) -> None:
        if data:
            with contextlib.suppress(OSError):
                _write_all(self._echo_fd, data)
        with self._changed:
            self._kept += data
            if mark:
                self._marks_seen += 1
                self._changed.notify_all()


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def install_log_handler() -> _RequestIdFilter:
    """The runtime's root handler: `[LEVEL]\\t<utc time>\\t<request id>\\t<message>`."""
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    request_filter = _RequestIdFilter()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    return request_filter


# serving invocations --------------------------------------------------------------------------
class _Outcome:
    """Exactly one of the handler's result and the timeout is reported."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.reported = False


class Runtime:
    def __init__(self, capture: OutputCapture, handler: Handler, init_ms: float) -> None:
        env = os.environ
        self.capture = capture
        self.handler = handler
        self.endpoint = env["LOCALSTACK_RUNTIME_ENDPOINT"]
        self.timeout = float(env.get("AWS_LAMBDA_FUNCTION_TIMEOUT") or 3)
        self.version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.request_filter: _RequestIdFilter | None = None
        self.invocations: queue.Queue[dict[str, Any]] = queue.Queue()
        self._init_ms: float | None = init_ms

    def serve_forever(self) -> None:
        while True:
            self.invoke(self.invocations.get())

    def invoke(self, invocation: dict[str, Any]) -> None:
        outcome = _Outcome(invocation.get("invoke-id") or "")
        if invocation.get("trace-id"):
            os.environ["_X_AMZN_TRACE_ID"] = invocation["trace-id"]
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        if self.request_filter is not None:
            self.request_filter.request_id = outcome.request_id
        print(f"START RequestId: {outcome.request_id} Version: {self.version}", flush=True)
        timer = threading.Timer(self.timeout, self._time_out, (outcome,))
        timer.daemon = True
        timer.start()
        try:
            is_error, body = self._call(invocation, outcome)
        finally:
            timer.cancel()
        self._report(outcome, body, is_error)

    def _call(self, invocation: dict[str, Any], outcome: _Outcome) -> tuple[bool, bytes]:
        deadline = outcome.started + self.timeout
        arn = invocation.get("invoked-function-arn") or ""
        try:
            payload = invocation.get("payload")
            event = json.loads(payload) if payload else {}
            result = self.handler(event, LambdaContext(outcome.request_id, arn, deadline))
        except Exception as exc:
            return True, self._error_body(exception_error(exc, outcome.request_id))
        try:
            return False, json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            message = f"Unable to marshal response: {exc}"
            return True, self._error_body(
                error_payload("Runtime.MarshalError", message, outcome.request_id)
            )

    @staticmethod
    def _error_body(error: dict[str, Any]) -> bytes:
        print(error_log(error), flush=True)
        return json.dumps(error).encode()

    def _time_out(self, outcome: _Outcome) -> None:
        body = json.dumps(timeout_error(outcome.request_id, self.timeout)).encode()
        self._report(outcome, body, is_error=True, timed_out=True)

    def _report(
        self, outcome: _Outcome, body: bytes, is_error: bool, timed_out: bool = False
    ) -> None:
        with outcome.lock:
            if outcome.reported:
                return
            outcome.reported = True
            duration_ms = (time.monotonic() - outcome.started) * 1000
            if timed_out:
                print(timeout_message(outcome.request_id, self.timeout), flush=True)
            print(f"END RequestId: {outcome.request_id}", flush=True)
            print(self._report_line(outcome.request_id, duration_ms, timed_out), flush=True)
            self.post(f"/invocations/{outcome.request_id}/logs", {"logs": self.capture.drain()})
            kind = "error" if is_error else "response"
            self.post(f"/invocations/{outcome.request_id}/{kind}", body)

    def _report_line(self, request_id: str, duration_ms: float, timed_out: bool) -> str:
        used_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        parts = [
            f"REPORT RequestId: {request_id}",
            f"Duration: {duration_ms:.2f} ms",
            f"Billed Duration: {math.ceil(duration_ms)} ms",
            f"Memory Size: {self.memory} MB",
            f"Max Memory Used: {used_mb} MB",
        ]
        if self._init_ms is not None:
            parts.append(f"Init Duration: {self._init_ms:.2f} ms")
            self._init_ms = None
        if timed_out:
            parts.append("Status: timeout")
        return "\t".join(parts) + "\t"

    def post(self, path: str, body: bytes | dict[str, Any]) -> None:
        post(self.endpoint + path, body, self.capture)


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(url: str, body: bytes | dict[str, Any], capture: OutputCapture | None = None) -> None:
    """POST to LocalStack, never through a proxy; failures are diagnostics, not crashes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with _opener.open(request, timeout=30) as response:
            response.read()
    except Exception as exc:
        if capture is not None:
            capture.echo(f"localaws shim: POST {url} failed: {exc}\n")


class _InvokeHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path != "/invoke":
            self.send_error(404)
            return
        try:
            invocation = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        except ValueError:
            self.send_error(400, "invalid invoke request")
            return
        self.server.invocations.put(invocation)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def invoke_server(listen_fd: int, invocations: queue.Queue[dict[str, Any]]) -> HTTPServer:
    """An HTTP server on the inherited, already listening socket."""
    server = HTTPServer(("127.0.0.1", 0), _InvokeHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=listen_fd)
    server.invocations = invocations  # type: ignore[attr-defined]
    return server


# process setup --------------------------------------------------------------------------------
def _end_process_group() -> None:
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)


def watch_parent(control_fd: int) -> None:
    """The executor holds the only write end of this pipe: end-of-file means it is gone."""

    def wait_for_eof() -> None:
        while os.read(control_fd, 64):
            pass
        _end_process_group()

    threading.Thread(target=wait_for_eof, name="parent-watch", daemon=True).start()


def set_import_path(paths: str) -> None:
    """The function's code and layers first; never this package's own folder."""
    here = os.path.dirname(_THIS_FILE)
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    sys.path[0:0] = [entry for entry in paths.split(os.pathsep) if entry]


def version_warning() -> str | None:
    declared = os.environ.get("AWS_EXECUTION_ENV", "").removeprefix("AWS_Lambda_")
    actual = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if declared.startswith("python") and declared != actual:
        variable = "LAMBDA_LOCAL_PYTHON_" + declared.removeprefix("python").replace(".", "_")
        return f"localaws: {declared} function runs on {actual} ({sys.executable}): set {variable}"
    return None


def main() -> int:
    started = time.monotonic()
    listen_fd = int(os.environ.pop(LISTEN_FD_VAR))
    watch_parent(int(os.environ.pop(CONTROL_FD_VAR)))
    set_import_path(os.environ.pop(PATHS_VAR, ""))
    status_url = f"{os.environ['LOCALSTACK_RUNTIME_ENDPOINT']}/status/"
    status_url += os.environ["LOCALSTACK_RUNTIME_ID"]
    capture = OutputCapture()
    request_filter = install_log_handler()
    warning = version_warning()
    if warning:
        print(warning, flush=True)
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except InitError as exc:
        print(error_log(exc.payload), flush=True)
        capture.drain()
        post(f"{status_url}/error", exc.payload, capture)
        return 1
    runtime = Runtime(capture, handler, init_ms=(time.monotonic() - started) * 1000)
    runtime.request_filter = request_filter
    server = invoke_server(listen_fd, runtime.invocations)
    threading.Thread(target=server.serve_forever, name="invoke-server", daemon=True).start()
    post(f"{status_url}/ready", b"", capture)
    runtime.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
