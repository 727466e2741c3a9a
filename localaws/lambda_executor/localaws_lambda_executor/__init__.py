"""A LocalStack Lambda runtime executor that runs Python handlers as local processes (no Docker).

Selected with `LAMBDA_RUNTIME_EXECUTOR=local`. Modules that do not import LocalStack:
`runtimes` (runtime -> interpreter), `environment` (the function's process environment),
`process` (spawning and stopping one runtime process), `shim` (the runtime itself, run under
the function's interpreter) and `scaling` (the SQS trigger's scaling policy). `endpoint`,
`executor`, `sqs_trigger` (an SQS event source that scales like AWS's) and `plugin` bind them
to LocalStack.
"""
