"""The running stack: where it runs, its environment, clients for it, and its processes.

Ports and the state folder come from the same variables `make up` reads (LOCALSTACK_PORT,
MOTO_PORT, API_PORT, STATE_DIR, ...), so a tool targets whatever stack the caller's environment
names. Processes are controlled through `python -m localaws` (stop, start, restart) and, for a
crash, a signal to the PID `localaws` recorded.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from flashsale.settings import Settings
from flashsale_kit.api import answers
from flashsale_kit.polling import poll
from localaws import envfile
from localaws.config import CALLS_PATH, HOST, PlatformConfig
from localaws.processes import PidFiles, ProcessRecord

LOCALAWS_TIMEOUT = 600.0
QUEUE_COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")


class StackError(RuntimeError):
    """The stack cannot do what was asked (it is down, a restart failed...)."""


def stack_env(cfg: PlatformConfig | None = None) -> dict[str, str]:
    """The client environment of the stack: what `make up` wrote to `.state/env` (ENV_NAME, the
    admin key, ...) on top of the standard local endpoints, the caller's ports winning, and
    API_URL (the caller's, else the stack's own)."""
    cfg = cfg or PlatformConfig.from_env()
    return {
        **envfile.read(cfg.env_file),
        **cfg.client_env(),
        "API_URL": os.environ.get("API_URL") or f"http://{HOST}:{cfg.api_port}",
    }


def apply_stack_env(cfg: PlatformConfig | None = None) -> dict[str, str]:
    """Point this process (boto3, Settings.from_env) at the stack, never overriding what the
    caller's environment already sets; the stack's environment."""
    env = stack_env(cfg)
    for key, value in env.items():
        os.environ.setdefault(key, value)
    return env


class RunningStack:
    def __init__(self, cfg: PlatformConfig | None = None, settings: Settings | None = None):
        self.cfg = cfg or PlatformConfig.from_env()
        self.env = stack_env(self.cfg)
        self.settings = settings or Settings.from_env({**os.environ, **self.env})
        self.api_url = self.env["API_URL"].rstrip("/")
        self._clients: dict[str, Any] = {}
        self._pids = PidFiles(self.cfg.run_dir)

    @classmethod
    def applied(cls) -> RunningStack:
        """The stack, with this process pointed at it too (`apply_stack_env`): for code that
        builds its own clients or reads `Settings.from_env()`."""
        apply_stack_env()
        return cls()

    # -- clients ---------------------------------------------------------------------------

    @cached_property
    def _session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.settings.region,
        )

    def client(self, service: str) -> Any:
        """A boto3 client for this stack (one per service, pooled for concurrent callers)."""
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
        return answers(self.api_url, timeout=5)

    def require_ready(self) -> None:
        if not self.api_ready():
            raise StackError(
                f"the pipeline is not ready ({self.api_url}/ready): start it with `make up` "
                "(with the same LOCALSTACK_PORT/MOTO_PORT/API_PORT/STATE_DIR as here)"
            )

    # -- queues ----------------------------------------------------------------------------

    @property
    def queues(self) -> dict[str, str]:
        """The two work queues' URLs, by short name."""
        urls = {
            "order-queue": self.settings.order_queue_url,
            "payment-queue": self.settings.payment_queue_url,
        }
        return {name: url for name, url in urls.items() if url}

    def queue_arn(self, short: str) -> str:
        name = self.queues[short].rstrip("/").rsplit("/", 1)[-1]
        account = self.settings.account_id or "000000000000"
        return f"arn:aws:sqs:{self.settings.region}:{account}:{name}"

    def queue_url(self, name: str) -> str | None:
        """A queue's URL by its full name; None when it does not exist (or SQS is down)."""
        try:
            return self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        except Exception:
            return None

    def queue_counts(self, url: str) -> dict[str, int]:
        """The queue's visible and in-flight message counts."""
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=list(QUEUE_COUNTS)
        )["Attributes"]
        return {key: int(attributes.get(key, 0)) for key in QUEUE_COUNTS}

    def queue_depth(self, url: str) -> int:
        """Messages in the queue, visible or in flight."""
        return sum(self.queue_counts(url).values())

    # -- the payment Lambda ------------------------------------------------------------------

    @property
    def function_name(self) -> str:
        return f"{self.settings.env_name}-payment-fn"

    # -- moto's request counter --------------------------------------------------------------

    def dynamodb_calls(self) -> dict[str, int] | None:
        """DynamoDB requests moto served since it started, per operation; None when unknown."""
        try:
            response = requests.get(f"{self.cfg.moto_url}{CALLS_PATH}", timeout=5)
            response.raise_for_status()
            return dict(response.json().get("dynamodb", {}))
        except (requests.RequestException, ValueError):
            return None

    # -- processes -------------------------------------------------------------------------

    @property
    def run_dir(self) -> Path:
        return self.cfg.run_dir

    def log_path(self, name: str) -> Path:
        return self.cfg.log_dir / f"{name}.log"

    def command_env(self) -> dict[str, str]:
        """The environment a project command (e.g. `order_processor redrive`) needs here."""
        return {**os.environ, **self.env}

    def run_module(
        self,
        module: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 300.0,
    ) -> str:
        """Run `python -m MODULE ARGS` of the services' venv for this stack; its output.
        `env` is the whole environment (default: the caller's plus the stack's)."""
        try:
            done = subprocess.run(
                [str(self.cfg.services_python), "-m", module, *args],
                env=dict(env) if env is not None else self.command_env(),
                cwd=self.cfg.root,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(
                f"{module} {' '.join(args)}: no answer in {exc.timeout:.0f} s"
            ) from exc
        if done.returncode != 0:
            raise StackError(
                f"{module} {' '.join(args)} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}"
            )
        return done.stdout

    def localaws(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        unset: Iterable[str] = (),
    ) -> str:
        """`python -m localaws ARGS` with the caller's environment, `unset` names left out and
        `env` added (the launcher starts a component with it); its output. Raises StackError."""
        environ = {k: v for k, v in os.environ.items() if k not in set(unset)}
        environ.update(env or {})
        return self.run_module("localaws", *args, env=environ, timeout=LOCALAWS_TIMEOUT)

    def process(self, name: str) -> ProcessRecord | None:
        return self._pids.running(name)

    def stop(self, name: str) -> str:
        """`localaws stop NAME` (SIGTERM, SIGKILL after the component's grace): how it ended,
        "stopped", "killed" or "not running"."""
        output = self.localaws("stop", name)
        found = re.search(rf"^{re.escape(name)}: (.+)$", output, re.MULTILINE)
        return found.group(1).strip() if found else "not running"

    def start(
        self, name: str, env: Mapping[str, str] | None = None, unset: Iterable[str] = ()
    ) -> None:
        """`localaws start NAME` with these settings on top of the caller's environment."""
        self.localaws("start", name, env=env, unset=unset)

    def restart(
        self, name: str, env: Mapping[str, str] | None = None, unset: Iterable[str] = ()
    ) -> str:
        """Stop then start NAME; how the old one ended."""
        how = self.stop(name)
        self.start(name, env, unset)
        return how

    def kill(self, name: str, sig: signal.Signals, timeout: float = 30.0) -> ProcessRecord:
        """Signal a component's process group; for SIGKILL, wait until it is gone."""
        record = self.process(name)
        if record is None:
            raise StackError(f"{name} is not running")
        os.killpg(record.pid, sig)
        if sig == signal.SIGKILL and not poll(lambda: not record.alive(), timeout, 0.05):
            raise StackError(f"{name} (pid {record.pid}) survived SIGKILL")
        return record
