"""Readiness probes and waiting with a deadline."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def tcp_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def udp_bound(host: str, port: int) -> bool:
    """True when something holds the UDP port (we cannot bind it ourselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    still_alive: Callable[[], bool] = lambda: True,
    interval: float = 0.1,
) -> bool:
    """Poll `ready` until it holds (True), the deadline passes or `still_alive` turns False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        if not still_alive():
            return ready()
        time.sleep(interval)
    return ready()
