"""The runtime executor LocalStack loads for `LAMBDA_RUNTIME_EXECUTOR=local`.

Each execution environment is one local process running the shim under the interpreter mapped
to the function's runtime. After a timeout, or when the process dies, it is discarded and the
next invocation starts a fresh one (an init, as after a sandbox reset).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import tempfile
import threading
from concurrent.futures import TimeoutError as FutureTimeout

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

from localaws_lambda_executor import runtimes
from localaws_lambda_executor.endpoint import ProcessExecutorEndpoint
from localaws_lambda_executor.environment import build_environment
from localaws_lambda_executor.process import HOST, ShimProcess
from localaws_lambda_executor.shim import (
    EXIT_ERROR,
    TIMEOUT_ERROR,
    error_payload,
    exit_error,
    timeout_error,
    timeout_message,
)

LOG = logging.getLogger(__name__)
# The shim reports timeouts itself; this deadline only catches a shim that cannot (e.g. a
# handler stuck in C code holding the GIL).
HARD_DEADLINE_GRACE_SECONDS = 3.0


def _json(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def _error_type(payload: bytes | None) -> str | None:
    try:
        return json.loads(payload or b"{}").get("errorType")
    except (ValueError, AttributeError):
        return None


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ProcessExecutorEndpoint(self.id)
        self._python = ""
        self._env: dict[str, str] = {}
        self._tmp_dir: str | None = None
        self._process: ShimProcess | None = None
        self._lock = threading.Lock()
        self._stopped = False

    # lifecycle ------------------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        fn = self.function_version.config
        runtimes.check_supported(fn.package_type, fn.runtime)
        self._python = runtimes.resolve_interpreter(fn.runtime)
        self._tmp_dir = tempfile.mkdtemp(prefix=f"lambda-{self.id[:12]}-")
        self._env = build_environment(
            runtime=fn.runtime,
            runtime_env=env_vars,
            function_env=fn.environment or {},
            host_env=os.environ,
            task_root=fn.code.get_unzipped_code_location(),
            layer_dirs=[
                layer.code.get_unzipped_code_location() for layer in fn.layers or [] if layer.code
            ],
            tmp_dir=self._tmp_dir,
        )
        self.executor_endpoint.start()
        self._spawn()
        self.executor_endpoint.wait_for_startup()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            process, self._process = self._process, None
        if process is not None:
            process.stop()
            # an invocation in flight ends now, not at its deadline: the thread waiting for
            # it serves a gateway request, and at shutdown the process waits for that thread
            request_id = self.executor_endpoint.request_id or ""
            code = process.returncode
            error = exit_error(request_id, -signal.SIGKILL if code is None else code)
            self.executor_endpoint.resolve(
                InvocationResult(request_id, _json(error), is_error=True, logs=EXIT_ERROR + "\n")
            )
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:
            LOG.debug("Error while shutting down the executor endpoint %s: %s", self.id, e)
        if self._tmp_dir:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)

    def _spawn(self) -> ShimProcess:
        with self._lock:
            if self._stopped:
                raise LambdaRuntimeException(f"Execution environment {self.id} is stopped")
            self.executor_endpoint.expect_startup()
            process = ShimProcess(
                self._python, self._env, self._env["LAMBDA_TASK_ROOT"], on_exit=self._on_exit
            )
            self._process = process  # before start: an instant exit must fail this startup
        try:
            process.start()
        except OSError as e:
            with self._lock:
                self._process = None
            raise LambdaRuntimeException(f"Could not start {self._python}: {e}") from e
        self.executor_endpoint.container_port = process.port
        LOG.debug(
            "Started %s for %s (pid %s, port %s)",
            self._python,
            self.function_version.qualified_arn,
            process.pid,
            process.port,
        )
        return process

    def _restart(self) -> ShimProcess:
        """A fresh process; raises StatusErrorException when it cannot get ready."""
        if self._process is not None:
            self._discard(self._process)
        process = self._spawn()
        limit = config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT
        try:
            self.executor_endpoint.startup_future.result(timeout=limit)
        except FutureTimeout:
            self._discard(process)
            message = f"The runtime did not get ready within {limit} s"
            raise StatusErrorException(
                message, payload=_json(error_payload("Runtime.InitError", message))
            ) from None
        return process

    def _discard(self, process: ShimProcess) -> None:
        """Kill a process that must not serve again (timed out, or being replaced)."""
        with self._lock:
            if self._process is process:
                self._process = None
        process.kill()

    def _on_exit(self, process: ShimProcess, returncode: int) -> None:
        """An exit nobody asked for: fail the startup or the invocation in progress."""
        if process is not self._process or self._stopped:
            return
        endpoint = self.executor_endpoint
        request_id = endpoint.request_id or ""
        error = exit_error(request_id, returncode)
        if not endpoint.startup_future.done():
            tail = process.output().strip().splitlines()[-5:]
            if tail:
                error["errorMessage"] += ": " + " | ".join(tail)
            endpoint.fail_startup(_json(error))
            return
        logs = f"{process.end_capture()}{error['errorMessage']}\n{EXIT_ERROR}\n"
        endpoint.resolve(InvocationResult(request_id, _json(error), is_error=True, logs=logs))

    # invocations ----------------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload.get("invoke-id", "")
        self.executor_endpoint.request_id = request_id
        process = self._process
        if process is None or not process.is_alive():
            try:
                process = self._restart()
            except StatusErrorException as e:
                return InvocationResult(request_id, e.payload, is_error=True, logs=self.get_logs())
        process.begin_capture()
        timeout = float(self.function_version.config.timeout)
        try:
            result = self.executor_endpoint.invoke_within(
                payload, timeout + HARD_DEADLINE_GRACE_SECONDS
            )
        except FutureTimeout:
            self._discard(process)
            logs = f"{process.end_capture()}{timeout_message(request_id, timeout)}\n"
            late = InvocationResult(
                request_id, _json(timeout_error(request_id, timeout)), is_error=True, logs=logs
            )
            self.executor_endpoint.resolve(late)  # unless the shim answered in the meantime
            return self.executor_endpoint.invocation_future.result()
        process.end_capture()
        if result.is_error and _error_type(result.payload) == TIMEOUT_ERROR:
            self._discard(process)
        return result

    # addresses and diagnostics --------------------------------------------------------------
    def get_address(self) -> str:
        return HOST

    def get_endpoint_from_executor(self) -> str:
        return HOST

    def get_runtime_endpoint(self) -> str:
        prefix = self.executor_endpoint.get_endpoint_prefix()
        return f"http://{HOST}:{config.GATEWAY_LISTEN[0].port}{prefix}"

    def get_logs(self) -> str:
        process = self._process
        return process.output() if process is not None else ""

    # versions -------------------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        """Fail early and clearly (the function goes to state Failed); unzip code and layers."""
        fn = function_version.config
        runtimes.check_supported(fn.package_type, fn.runtime)
        runtimes.resolve_interpreter(fn.runtime)
        if fn.code:
            fn.code.prepare_for_execution()
        for layer in fn.layers or []:
            if layer.code:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing to do: LocalStack owns the unzipped code; processes stop with their executor."""

    @classmethod
    def validate_environment(cls) -> bool:
        return True
