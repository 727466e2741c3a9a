"""The stack under test: where it runs, clients for it, and the levers a fault needs.

Ports and the state folder come from the same variables `make up` reads (LOCALSTACK_PORT,
MOTO_PORT, API_PORT, STATE_DIR, ...), so the scenarios target whatever stack the caller's
environment names. Processes are controlled through `python -m localaws` (stop, start, up) and,
for a crash, a signal to the PID `localaws` recorded.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from flashsale.settings import Settings
from localaws import envfile
from localaws.config import HOST, PlatformConfig
from localaws.processes import PidFiles, ProcessRecord

LOCALAWS_TIMEOUT = 600.0


class ChaosError(RuntimeError):
    """A scenario could not do what it needed to (the stack is down, a restart failed...)."""


class Stack:
    def __init__(self, cfg: PlatformConfig | None = None) -> None:
        self.cfg = cfg or PlatformConfig.from_env()
        # the platform's endpoints, plus what `up` wrote (ENV_NAME, the admin key)
        self.env: dict[str, str] = {**self.cfg.client_env(), **envfile.read(self.cfg.env_file)}
        for key, value in self.cfg.client_env().items():  # the caller's ports win
            self.env[key] = value
        self.settings = Settings.from_env(self.env)
        self.api_url = os.environ.get("API_URL") or f"http://{HOST}:{self.cfg.api_port}"
        self._session = boto3.session.Session(
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.settings.region,
        )
        self._clients: dict[str, Any] = {}
        self._pids = PidFiles(self.cfg.run_dir)

    # -- clients ---------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service,
                endpoint_url=self.settings.endpoint_url(service),
                config=Config(
                    retries={"mode": "standard", "max_attempts": 3},
                    connect_timeout=3,
                    read_timeout=30,
                    max_pool_connections=32,
                ),
            )
        return self._clients[service]

    def forget_clients(self) -> None:
        """Drop clients (their pooled connections) after an emulator restarted."""
        self._clients.clear()

    # -- health ----------------------------------------------------------------------------

    def api_ready(self) -> bool:
        try:
            return requests.get(f"{self.api_url}/ready", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def require_ready(self) -> None:
        if not self.api_ready():
            raise ChaosError(
                f"the pipeline is not ready ({self.api_url}/ready): start it with `make up` "
                "(with the same LOCALSTACK_PORT/MOTO_PORT/API_PORT/STATE_DIR as here)"
            )

    # -- processes -------------------------------------------------------------------------

    def localaws(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        unset: Iterable[str] = (),
    ) -> str:
        """Run `python -m localaws ARGS` for this stack; its output. Raises ChaosError."""
        environ = {k: v for k, v in os.environ.items() if k not in set(unset)}
        environ.update(env or {})
        try:
            done = subprocess.run(
                [str(self.cfg.services_python), "-m", "localaws", *args],
                env=environ,
                cwd=self.cfg.root,
                capture_output=True,
                text=True,
                timeout=LOCALAWS_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ChaosError(
                f"localaws {' '.join(args)}: no answer in {exc.timeout:.0f} s"
            ) from exc
        if done.returncode != 0:
            raise ChaosError(
                f"localaws {' '.join(args)} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}"
            )
        return done.stdout

    def process(self, name: str) -> ProcessRecord | None:
        return self._pids.running(name)

    def stop(self, name: str) -> str:
        """`localaws stop NAME` (SIGTERM, SIGKILL after the component's grace): how it ended,
        "stopped", "killed" or "not running"."""
        output = self.localaws("stop", name)
        found = re.search(rf"^{re.escape(name)}: (.+)$", output, re.MULTILINE)
        return found.group(1).strip() if found else "not running"

    def start(self, name: str, env: Mapping[str, str] | None = None) -> None:
        """`localaws start NAME` with these settings on top of the caller's environment."""
        self.localaws("start", name, env=env)

    def restart(self, name: str, env: Mapping[str, str] | None = None) -> str:
        how = self.stop(name)
        self.start(name, env)
        return how

    def kill(self, name: str, sig: signal.Signals, timeout: float = 30.0) -> ProcessRecord:
        """Signal a component's process group; for SIGKILL, wait until it is gone."""
        record = self.process(name)
        if record is None:
            raise ChaosError(f"{name} is not running")
        os.killpg(record.pid, sig)
        if sig == signal.SIGKILL:
            deadline = time.monotonic() + timeout
            while record.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if record.alive():
                raise ChaosError(f"{name} (pid {record.pid}) survived SIGKILL")
        return record

    def log_path(self, name: str) -> Path:
        return self.cfg.log_dir / f"{name}.log"

    def command_env(self) -> dict[str, str]:
        """The environment a project command (e.g. `order_processor redrive`) needs here."""
        return {**os.environ, **self.env}

    def run_module(self, module: str, *args: str, timeout: float = 300.0) -> str:
        """Run `python -m MODULE ARGS` of the services' venv against this stack; its output."""
        done = subprocess.run(
            [str(self.cfg.services_python), "-m", module, *args],
            env=self.command_env(),
            cwd=self.cfg.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise ChaosError(f"{module} {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout


def say(message: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[chaos] {message}", file=sys.stderr, flush=True)
