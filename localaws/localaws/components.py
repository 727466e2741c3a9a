"""The processes the local platform is made of, as data: how to start each, how to probe it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from localaws import health
from localaws.config import HOST, LOCALSTACK_SERVICES, PlatformConfig


@dataclass(frozen=True)
class Component:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready: Callable[[], bool]
    endpoint: str
    ports: list[tuple[str, int]] = field(default_factory=list)  # ("tcp" | "udp", port)
    start_timeout: float = 60.0
    stop_grace: float = 5.0
    cwd: Path | None = None


def base_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment with `extra`, output unbuffered (logs as they happen)."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


def serve_module(cfg: PlatformConfig, module: str, port: int) -> list[str]:
    """The argv of one of our own servers: `module` on the services' Python, bound to HOST."""
    return [str(cfg.services_python), "-m", module, "--host", HOST, "--port", str(port)]


def moto(cfg: PlatformConfig) -> Component:
    return Component(
        name="moto",
        argv=serve_module(cfg, "localaws.moto_server", cfg.moto_port),
        env=base_env({}),
        ready=lambda: health.http_ok(f"{cfg.moto_url}/moto-api/"),
        endpoint=f"{cfg.moto_url}  (DynamoDB, X-Ray API)",
        ports=[("tcp", cfg.moto_port)],
        start_timeout=60,
    )


def localstack_env(cfg: PlatformConfig) -> dict[str, str]:
    """LocalStack in host mode: see localaws/README.md for why each variable is set."""
    fs_root = cfg.state_dir / "localstack"
    tmp = fs_root / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    client = cfg.client_env()
    return base_env(
        {
            "OVERRIDE_IN_DOCKER": "0",
            "DNS_ADDRESS": "0",
            # Twisted keeps connections alive; under hypercorn LocalStack answers every request
            # with `Connection: close` (its own workaround for an h11 keep-alive slowdown), so each
            # boto3 call opened a new connection and LocalStack started a thread for it. Twisted
            # halved LocalStack's CPU per async order and cut the API's by about a third
            "GATEWAY_SERVER": "twisted",
            # LocalStack's services call each other (SNS delivering to SQS, the Lambda trigger
            # reading SQS) through a boto3 client; in memory, not over HTTP to itself: this
            # halved LocalStack's CPU per published order
            "IN_MEMORY_CLIENT": "1",
            "GATEWAY_LISTEN": f"{HOST}:{cfg.localstack_port}",
            "LOCALSTACK_HOST": f"{HOST}:{cfg.localstack_port}",
            "SERVICES": LOCALSTACK_SERVICES,
            "SQS_ENDPOINT_STRATEGY": "path",
            "SQS_DISABLE_CLOUDWATCH_METRICS": "1",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "PERSISTENCE": "0",
            "FILESYSTEM_ROOT": str(fs_root),
            "TMPDIR": str(tmp),
            "LAMBDA_RUNTIME_EXECUTOR": os.environ.get("LAMBDA_RUNTIME_EXECUTOR", "local"),
            "LAMBDA_LOCAL_PYTHON": os.environ.get("LAMBDA_LOCAL_PYTHON", str(cfg.services_python)),
            # handed to Lambda functions by the local executor, so they reach moto and the relay
            "AWS_ENDPOINT_URL_DYNAMODB": client["AWS_ENDPOINT_URL_DYNAMODB"],
            "AWS_ENDPOINT_URL_XRAY": client["AWS_ENDPOINT_URL_XRAY"],
            "AWS_XRAY_DAEMON_ADDRESS": client["AWS_XRAY_DAEMON_ADDRESS"],
        }
    )


def localstack(cfg: PlatformConfig) -> Component:
    return Component(
        name="localstack",
        argv=[str(cfg.localstack_python), "-m", "localstack.runtime.main"],
        env=localstack_env(cfg),
        ready=lambda: health.http_ok(f"{cfg.localstack_url}/_localstack/health"),
        endpoint=f"{cfg.localstack_url}  (SNS SQS Lambda CloudFormation CloudWatch Logs IAM STS)",
        ports=[("tcp", cfg.localstack_port)],
        start_timeout=120,
        stop_grace=15,  # LocalStack can hang on shutdown: SIGKILL after this
        cwd=cfg.state_dir,
    )


def xray_relay(cfg: PlatformConfig) -> Component:
    return Component(
        name="xray-relay",
        argv=serve_module(cfg, "localaws.xray_relay", cfg.xray_daemon_port),
        env=base_env(cfg.client_env()),
        ready=lambda: health.http_ok(f"http://{cfg.xray_daemon_address}/health"),
        endpoint=f"udp://{cfg.xray_daemon_address}  (X-Ray daemon stand-in -> X-Ray API)",
        ports=[("udp", cfg.xray_daemon_port), ("tcp", cfg.xray_daemon_port)],
        start_timeout=30,
    )


def platform_components(cfg: PlatformConfig) -> list[Component]:
    """The emulators, in start order."""
    return [moto(cfg), localstack(cfg), xray_relay(cfg)]
