"""LocalStack's executor endpoint, extended for a process that can die or be replaced.

The stock endpoint waits up to 905 s for a result and expects one start per executor. Here every
outcome (the shim's callback, the process exiting, the executor's own deadline) goes through
`resolve`, where the first one wins, and a replacement process can be started on the same id.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, InvalidStateError
from http import HTTPStatus

import requests
from localstack.http import Response
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    InvokeSendError,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import InvocationResult
from werkzeug import Request

from localaws_lambda_executor.process import HOST

NO_PROXIES = {"http": "", "https": ""}


class ProcessExecutorEndpoint(ExecutorEndpoint):
    def __init__(self, executor_id: str) -> None:
        super().__init__(executor_id, container_address=HOST, container_port=None)
        self.request_id: str | None = None

    # callbacks from the shim ----------------------------------------------------------------
    def invocation_response(self, request: Request, req_id: str) -> Response:
        self.resolve(InvocationResult(req_id, request.data, is_error=False, logs=self.logs))
        return Response(status=HTTPStatus.ACCEPTED)

    def invocation_error(self, request: Request, req_id: str) -> Response:
        self.resolve(InvocationResult(req_id, request.data, is_error=True, logs=self.logs))
        return Response(status=HTTPStatus.ACCEPTED)

    # startup --------------------------------------------------------------------------------
    def expect_startup(self) -> Future[bool]:
        """A fresh startup future, for the first process and for every replacement."""
        self.startup_future = Future()
        return self.startup_future

    def fail_startup(self, payload: bytes) -> None:
        with contextlib.suppress(InvalidStateError, AttributeError):
            self.startup_future.set_exception(
                StatusErrorException("Environment startup failed", payload=payload)
            )

    # invocations ----------------------------------------------------------------------------
    def resolve(self, result: InvocationResult) -> bool:
        """Settle the pending invocation; False when something else settled it first."""
        future = self.invocation_future
        if future is None:
            return False
        try:
            future.set_result(result)
        except InvalidStateError:
            return False
        return True

    def invoke_within(self, payload: dict[str, str], timeout: float) -> InvocationResult:
        """Send an invocation; raises concurrent.futures.TimeoutError after `timeout` seconds."""
        future: Future[InvocationResult] = Future()
        self.invocation_future, self.logs = future, None
        self.request_id = payload.get("invoke-id")
        url = f"http://{self.container_address}:{self.container_port}/invoke"
        try:
            response = self._perform_invoke(invocation_url=url, proxies=NO_PROXIES, payload=payload)
        except requests.exceptions.ConnectionError:
            if future.done():  # the process died before it could take the invocation
                return future.result()
            raise
        if not response.ok:
            message = f"Error {response.status_code} while sending an invocation to {url}"
            raise InvokeSendError(message)
        return future.result(timeout=timeout)
