"""Waiting for asynchronous outcomes with a deadline instead of fixed sleeps."""

from __future__ import annotations

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
