"""SIGTERM/SIGINT handling: the first signal asks for a graceful stop, a second exits at once."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install(request_stop: Callable[[], None], exit_now: Callable[[int], None] = os._exit) -> None:
    """Route SIGTERM/SIGINT to `request_stop`; a repeat calls `exit_now(128 + signum)`."""
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if received:
            log.warning("second signal: exiting now", extra={"signal": signum})
            exit_now(128 + signum)
            return
        received.append(signum)
        log.info("stop requested: finishing in-flight payments", extra={"signal": signum})
        request_stop()

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
