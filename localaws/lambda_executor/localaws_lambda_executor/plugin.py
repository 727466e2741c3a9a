"""The plux plugin behind the `localstack.lambda.runtime_executor` entry point named `local`."""

from __future__ import annotations

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class LocalProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "local"

    def load(self, *args, **kwargs):
        from localaws_lambda_executor.executor import LocalProcessRuntimeExecutor

        return LocalProcessRuntimeExecutor
