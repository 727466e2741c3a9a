"""Where the local platform runs: ports, folders, interpreters; read from the environment once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
LOCALSTACK_SERVICES = "sqs,sns,lambda,cloudformation,logs,cloudwatch,iam,sts"
#: the moto server's request counter (localaws.moto_server): DynamoDB calls per operation
CALLS_PATH = "/_localaws/calls"


def _checkout_root() -> Path:
    """The checkout this package lives in (localaws/localaws/config.py -> checkout)."""
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PlatformConfig:
    root: Path
    state_dir: Path
    localstack_port: int
    moto_port: int
    xray_daemon_port: int
    api_port: int
    mode: str  # "host" (plain processes), "docker" (docker-compose.localstack.yml) or "auto"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> PlatformConfig:
        root = Path(environ.get("FLASHSALE_ROOT") or _checkout_root())
        return cls(
            root=root,
            state_dir=Path(environ.get("STATE_DIR") or root / ".state").resolve(),
            localstack_port=int(environ.get("LOCALSTACK_PORT", "4566")),
            moto_port=int(environ.get("MOTO_PORT", "4567")),
            xray_daemon_port=int(environ.get("XRAY_DAEMON_PORT", "2000")),
            api_port=int(environ.get("API_PORT", "8080")),
            mode=environ.get("LOCAL_AWS", "auto"),
        )

    # folders -------------------------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def env_file(self) -> Path:
        return self.state_dir / "env"

    # interpreters ----------------------------------------------------------------------------
    @property
    def services_python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"

    @property
    def localstack_python(self) -> Path:
        return self.root / ".venv-localstack" / "bin" / "python"

    # endpoints -------------------------------------------------------------------------------
    @property
    def localstack_url(self) -> str:
        return f"http://{HOST}:{self.localstack_port}"

    @property
    def moto_url(self) -> str:
        return f"http://{HOST}:{self.moto_port}"

    @property
    def xray_daemon_address(self) -> str:
        return f"{HOST}:{self.xray_daemon_port}"

    def client_env(self) -> dict[str, str]:
        """What boto3, the aws CLI and the services need to talk to the local platform."""
        return {
            "AWS_ENDPOINT_URL": self.localstack_url,
            "AWS_ENDPOINT_URL_DYNAMODB": self.moto_url,
            "AWS_ENDPOINT_URL_XRAY": self.moto_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_XRAY_DAEMON_ADDRESS": self.xray_daemon_address,
        }
