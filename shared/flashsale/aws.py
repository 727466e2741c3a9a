"""AWS clients: one boto3 Session per process, clients created once and cached.

A Session costs ~100 ms and a client tens of ms, so entrypoints must never create them per
request. Endpoints follow AWS_ENDPOINT_URL[_<SERVICE>] (read in settings). Fork-safe: a child
process (gunicorn worker) builds its own session instead of sharing the parent's connections.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

from flashsale.settings import Settings

_lock = threading.Lock()
_pid: int | None = None
_session: boto3.Session | None = None
_clients: dict[tuple[Any, ...], Any] = {}
_default_settings: Settings | None = None


def default_settings() -> Settings:
    """Settings.from_env(), read once per process."""
    global _default_settings
    if _default_settings is None:
        _default_settings = Settings.from_env()
    return _default_settings


#: seconds to wait for an answer: above SQS's 20 s long poll for SQS; short elsewhere, so an
#: unreachable or hanging dependency becomes a quick 503 instead of a client-side timeout
READ_TIMEOUTS = {"sqs": 30}
DEFAULT_READ_TIMEOUT = 10


def botocore_config(settings: Settings, service: str = "") -> Config:
    return Config(
        region_name=settings.region,
        retries={"mode": "standard", "max_attempts": 4},
        max_pool_connections=settings.aws_max_pool_connections,
        connect_timeout=5,
        read_timeout=READ_TIMEOUTS.get(service, DEFAULT_READ_TIMEOUT),
        tcp_keepalive=True,
    )


def session(settings: Settings | None = None) -> boto3.Session:
    settings = settings or default_settings()
    with _lock:
        return _session_locked(settings)


def _session_locked(settings: Settings) -> boto3.Session:
    global _pid, _session
    if _pid != os.getpid():
        _pid, _session = os.getpid(), None
        _clients.clear()
    if _session is None:
        _session = boto3.Session(region_name=settings.region)
    return _session


def client(service: str, settings: Settings | None = None) -> Any:
    """A cached low-level client for `service`, routed to the configured endpoint."""
    settings = settings or default_settings()
    endpoint = settings.endpoint_url(service)
    key = (service, settings.region, endpoint, settings.aws_max_pool_connections)
    if _pid == os.getpid() and (cached := _clients.get(key)) is not None:
        return cached
    with _lock:
        sess = _session_locked(settings)
        if key not in _clients:
            _clients[key] = sess.client(
                service,
                region_name=settings.region,
                endpoint_url=endpoint,
                config=botocore_config(settings, service),
            )
        return _clients[key]


def reset() -> None:
    """Forget the session, clients and settings (tests that change the environment)."""
    global _pid, _session, _default_settings
    with _lock:
        _pid, _session, _default_settings = None, None, None
        _clients.clear()
