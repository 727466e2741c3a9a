"""The same emulators as containers (docker-compose.localstack.yml), where a Docker engine runs."""

from __future__ import annotations

import os
import shutil
import subprocess

from localaws.config import PlatformConfig

COMPOSE_FILE = "docker-compose.localstack.yml"
DEFAULT_LOCALSTACK_TAG = "4.14.0"  # later tags refuse to start without LOCALSTACK_AUTH_TOKEN


def docker_engine_available(timeout: float = 5.0) -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=timeout, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def choose_mode(cfg: PlatformConfig) -> str:
    """`LOCAL_AWS=host|docker` decides; unset (or `auto`): docker when an engine answers."""
    if cfg.mode in ("host", "docker"):
        return cfg.mode
    return "docker" if docker_engine_available() else "host"


def compose_env(cfg: PlatformConfig) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LOCALSTACK_VERSION", DEFAULT_LOCALSTACK_TAG)
    env.update(
        LOCALSTACK_PORT=str(cfg.localstack_port),
        MOTO_PORT=str(cfg.moto_port),
        XRAY_DAEMON_PORT=str(cfg.xray_daemon_port),
        STATE_DIR=str(cfg.state_dir),
    )
    return env


def compose(cfg: PlatformConfig, *args: str) -> None:
    command = ["docker", "compose", "-f", str(cfg.root / COMPOSE_FILE), "-p", "flashsale", *args]
    subprocess.run(command, env=compose_env(cfg), check=True)
