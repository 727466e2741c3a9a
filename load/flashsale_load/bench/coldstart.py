"""payment_fn cold start: module init time in a fresh interpreter with the runtime's variables,
and first-invoke latency through LocalStack after a configuration change forces a new runtime
process (`make bench ONLY=coldstart`).

Without a stack, `python -m flashsale_load.bench.coldstart [--runs 10]` imports the handler in
fresh interpreters under this environment plus the Lambda runtime's variables, compiled as the
zip ships it, and prints the module init and the whole interpreter start, min / median / max.
A figure, never a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from flashsale.domain.model import OrderItem, Route
from flashsale.events import OrderPlaced, encode
from flashsale.settings import Settings
from flashsale_kit import lambda_levers
from flashsale_kit.running import RunningStack

HANDLER_MODULE = "payment_fn.handler"
NONCE = "BENCH_COLD_START_NONCE"

#: the handler's own figure (imports + Powertools setup) when it records one, else the import time
_IMPORT_PROBE = (
    "import time; t = time.perf_counter(); import {module} as h; "
    "print(getattr(h, 'INIT_DURATION_MS', (time.perf_counter() - t) * 1000) / 1000)"
)


def probe_event(queue_arn: str) -> dict:
    """An SQS batch of one OrderPlaced for an order that does not exist: the handler does its
    real work (decode, idempotency, order lookup) and reports the record as failed; nothing is
    charged."""
    order = OrderPlaced(
        order_id=str(uuid.uuid4()),
        customer_id=1,
        items=(OrderItem(1, 1, Decimal("1.00")),),
        total=Decimal("1.00"),
        route=Route.LAMBDA,
    )
    body, _ = encode(order)
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench-probe",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
        ]
    }


def import_times(env: Mapping[str, str], runs: int = 3) -> list[tuple[float, float]]:
    """(module init, whole interpreter run) in seconds per run, each in a fresh interpreter with
    `env`; module init is imports + Powertools setup.

    The modules are imported compiled, as the zip ships them: a first, unmeasured run compiles
    them into a private bytecode cache (PYTHONPYCACHEPREFIX) that the measured runs read, so no
    run pays for compiling the sources (with PYTHONDONTWRITEBYTECODE every run would)."""
    with tempfile.TemporaryDirectory(prefix="coldstart-pyc-") as cache:
        compiled = {**env, "PYTHONPYCACHEPREFIX": cache}
        compiled.pop("PYTHONDONTWRITEBYTECODE", None)
        _import_once(compiled)
        return [_import_once(compiled) for _ in range(runs)]


def _import_once(env: Mapping[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(module=HANDLER_MODULE)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    process = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"importing {HANDLER_MODULE} failed: {result.stderr[-400:]}")
    return float(result.stdout.strip().splitlines()[-1]), process


@dataclass
class InvokeTimes:
    cold_ms: float
    warm_ms: list[float] = field(default_factory=list)
    function_error: str | None = None

    @property
    def warm_p50_ms(self) -> float | None:
        return statistics.median(self.warm_ms) if self.warm_ms else None

    @property
    def cold_overhead_ms(self) -> float | None:
        warm = self.warm_p50_ms
        return self.cold_ms - warm if warm is not None else None


def invoke_probe(stack: RunningStack) -> tuple[float, str | None]:
    """Invoke the function once with the probe event: (milliseconds, FunctionError or None)."""
    payload = json.dumps(probe_event(stack.queue_arn("payment-queue"))).encode()
    t0 = time.perf_counter()
    response = stack.client("lambda").invoke(FunctionName=stack.function_name, Payload=payload)
    response["Payload"].read()
    return (time.perf_counter() - t0) * 1000, response.get("FunctionError")


def invoke_times(stack: RunningStack, warm_invokes: int) -> InvokeTimes:
    """Change the function's environment (a new runtime process), invoke once cold, then warm;
    the environment is put back afterwards."""
    original = lambda_levers.function_env(stack)
    lambda_levers.set_function_env(stack, {**original, NONCE: uuid.uuid4().hex})
    try:
        cold_ms, error = invoke_probe(stack)
        times = InvokeTimes(cold_ms, function_error=error)
        for _ in range(warm_invokes):
            ms, error = invoke_probe(stack)
            times.warm_ms.append(ms)
            times.function_error = times.function_error or error
        return times
    finally:
        lambda_levers.set_function_env(stack, original)


def function_process_env(stack: RunningStack) -> dict[str, str]:
    """What the handler imports under in its runtime process: this environment, the runtime's
    variables and the function's own."""
    config = stack.client("lambda").get_function_configuration(FunctionName=stack.function_name)
    variables = config.get("Environment", {}).get("Variables", {})
    return {**os.environ, **runtime_env(config, stack.settings.region), **variables}


def runtime_env(config: Mapping[str, Any], region: str) -> dict[str, str]:
    """The variables the Lambda runtime sets that imports act on: outside Lambda the X-Ray SDK
    builds a sampler with two X-Ray clients, which Lambda never does, and Powertools turns
    tracing off."""
    spec = importlib.util.find_spec(HANDLER_MODULE.partition(".")[0])
    task_root = Path(spec.origin).parents[1] if spec and spec.origin else Path.cwd()
    return {
        "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_VERSION": config.get("Version", "$LATEST"),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config['Runtime']}",
        "AWS_REGION": region,
        "LAMBDA_TASK_ROOT": str(task_root),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="payment_fn module init in fresh interpreters")
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args(argv).runs
    settings = Settings.from_env()
    #: the function as the payment_fn stack deploys it by default, on this interpreter
    config = {
        "FunctionName": f"{settings.env_name}-payment-fn",
        "MemorySize": 512,
        "Runtime": f"python{sys.version_info.major}.{sys.version_info.minor}",
    }
    env = {**os.environ, **runtime_env(config, settings.region)}
    times = import_times(env, runs)
    for label, values in (
        ("init (imports + Powertools) ms", [init * 1000 for init, _ in times]),
        ("interpreter + init ms", [process * 1000 for _, process in times]),
    ):
        print(
            f"{label:32} min {min(values):7.1f}  median {statistics.median(values):7.1f}"
            f"  max {max(values):7.1f}  ({runs} runs)"
        )


if __name__ == "__main__":
    main()
