"""Waiting for asynchronous outcomes with a deadline instead of fixed sleeps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition was not met in time (an AssertionError, so a test reads as failed)."""


def poll(probe: Callable[[], T], timeout: float, interval: float = 0.2) -> T:
    """Call `probe` until it returns something truthy or `timeout` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        left = deadline - time.monotonic()
        if value or left <= 0:
            return value
        time.sleep(min(interval, left))


def wait_until(
    probe: Callable[[], T | None],
    timeout: float = 20.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """`poll`, raising WaitTimeout (naming `what` and the last value) when nothing truthy came."""
    value = poll(probe, timeout, interval)
    if not value:
        raise WaitTimeout(f"{what} not met within {timeout} s (last value: {value!r})")
    return value


class Ticker:
    """Calls `tick` at a fixed rate, every `interval` seconds from `start()`, on a daemon thread
    until `stop()` (or the end of a `with` block), or until `tick` returns False."""

    def __init__(self, tick: Callable[[], object], interval: float, name: str = "ticker") -> None:
        self._tick = tick
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> Ticker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.wait(max(next_at - time.monotonic(), 0.0)):
            if self._tick() is False:
                return
            next_at += self._interval
