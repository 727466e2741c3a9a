"""The plux plugin behind the `localstack.lambda.runtime_executor` entry point named `local`.

Loading it (the Lambda provider does, before any event source mapping exists) also installs the
scaling SQS event source (`sqs_trigger`).
"""

from __future__ import annotations

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class LocalProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "local"

    def load(self, *args, **kwargs):
        from localaws_lambda_executor import sqs_trigger
        from localaws_lambda_executor.executor import LocalProcessRuntimeExecutor

        sqs_trigger.install()
        return LocalProcessRuntimeExecutor
