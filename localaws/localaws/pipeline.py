"""The order pipeline on top of the platform: provisioning steps, then the API and the processor.

Provisioning (CloudFormation stacks, the payment Lambda, the catalog) runs as one-shot commands
of the project's own tools; the API (gunicorn) and the processor are long-running components.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localaws import health
from localaws.components import Component, base_env
from localaws.config import HOST, PlatformConfig


@dataclass(frozen=True)
class Step:
    """A one-shot command of `up`, e.g. deploying the stacks; must be idempotent."""

    name: str
    argv: list[str]
    env: dict[str, str]
    timeout: float = 600.0
    needed: Callable[[], bool] = lambda: True


class StepError(RuntimeError):
    pass


def run_step(cfg: PlatformConfig, step: Step, echo: Callable[[str], None] = print) -> float:
    """Run `step`, its output appended to its log; raise StepError with the log tail on failure."""
    if not step.needed():
        echo(f"{step.name}: already done")
        return 0.0
    log_path = cfg.log_dir / f"{step.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with open(log_path, "ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(step.argv)}\n".encode())
        log.flush()
        try:
            done = subprocess.run(
                step.argv,
                env=step.env,
                cwd=cfg.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=step.timeout,
                check=False,
            )
            code: int | str = done.returncode
        except subprocess.TimeoutExpired:
            code = f"timeout after {step.timeout:.0f} s"
    seconds = time.monotonic() - t0
    if code != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise StepError(f"{step.name} failed ({code}); last lines of {log_path.name}:\n{tail}")
    echo(f"{step.name}: done in {seconds:.1f} s")
    return seconds


def _started_since_last_spawn(path: Path, marker: str) -> bool:
    """True when `marker` was logged after the last start line `spawn` wrote to the log."""
    try:
        with open(path, "rb") as log:
            log.seek(max(path.stat().st_size - 1_000_000, 0))
            tail = log.read()
    except OSError:
        return False
    last_start = tail.rfind(b"\n--- ")
    return marker.encode() in tail[last_start if last_start >= 0 else 0 :]


def service_env(cfg: PlatformConfig) -> dict[str, str]:
    """Settings every pipeline process shares (each may override its own below)."""
    return {
        **cfg.client_env(),
        "ENV_NAME": os.environ.get("ENV_NAME", "local"),
        "AWS_XRAY_SDK_ENABLED": os.environ.get("AWS_XRAY_SDK_ENABLED", "true"),
        "PYTHONUNBUFFERED": "1",
    }


def api(cfg: PlatformConfig) -> Component:
    venv_bin = cfg.services_python.parent
    env = base_env(
        {
            **service_env(cfg),
            "API_HOST": HOST,
            "API_PORT": str(cfg.api_port),
            # the original API's single payment slot per process, unless asked otherwise
            "PAYMENT_CONCURRENCY": os.environ.get("API_PAYMENT_CONCURRENCY", "1"),
        }
    )
    return Component(
        name="api",
        argv=[
            str(venv_bin / "gunicorn"),
            "-c",
            "python:orders_api.gunicorn_conf",
            "orders_api.wsgi:app",
        ],
        env=env,
        ready=lambda: health.http_ok(f"http://{HOST}:{cfg.api_port}/ready", timeout=3),
        endpoint=f"http://{HOST}:{cfg.api_port}  (order API; OpenAPI at /openapi.json)",
        ports=[("tcp", cfg.api_port)],
        start_timeout=60,
        stop_grace=35,  # gunicorn's graceful timeout (30 s) lets sync orders finish
    )


def processor(cfg: PlatformConfig) -> Component:
    concurrency = os.environ.get("PROCESSOR_CONCURRENCY", "10")
    env = base_env(
        {
            **service_env(cfg),
            "PROCESSOR_CONCURRENCY": concurrency,
            "PAYMENT_CONCURRENCY": os.environ.get("PROCESSOR_PAYMENT_CONCURRENCY", concurrency),
        }
    )
    log_path = cfg.log_dir / "processor.log"
    return Component(
        name="processor",
        argv=[str(cfg.services_python), "-m", "order_processor", "run"],
        env=env,
        ready=lambda: _started_since_last_spawn(log_path, "processor started"),
        endpoint=f"polls {env['ENV_NAME']}-order-queue with {concurrency} concurrent payments",
        start_timeout=60,
        stop_grace=40,  # finishes in-flight payments on SIGTERM
    )


def pipeline_components(cfg: PlatformConfig) -> list[Component]:
    return [api(cfg), processor(cfg)]


def provisioning_steps(cfg: PlatformConfig) -> list[Step]:
    """Deploy the local stacks (data on moto; messaging and payment_fn on LocalStack), seed."""
    py = str(cfg.services_python)
    env = base_env(service_env(cfg))
    return [
        Step("deploy", [py, "-m", "flashsale_stacks", "deploy-local"], env),
        Step("seed", [py, "-m", "flashsale.catalog"], env, needed=lambda: _catalog_empty(env)),
    ]


def _catalog_empty(env: dict[str, str]) -> bool:
    """Seed only an empty catalog: a second `up` must not reset stock that was sold."""
    import boto3

    from flashsale.settings import Settings

    table = Settings.from_env(env).products_table
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    return not ddb.scan(TableName=table, Limit=1, Select="COUNT")["Count"]
