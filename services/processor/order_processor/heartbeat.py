"""Keeps in-flight messages invisible while their payments run.

Every message being worked on is tracked; a background thread renews the visibility of those
whose last renewal is at least one interval old. A worker settles a message (delete or a
visibility change) through `settle`, which holds the same lock as a renewal, so a renewal can
never land after a worker has made a message visible again for a retry. Deletes only `forget`
the message: renewing a deleted message fails harmlessly and is not worth serialising deletes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from order_processor.queue import MessageQueue

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(
        self,
        queue: MessageQueue,
        visibility_timeout: int,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.queue = queue
        self.visibility_timeout = visibility_timeout
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_extended: dict[str, float] = {}
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def track(self, receipt_handle: str) -> None:
        """Start tracking a message just received (its visibility was set by the receive)."""
        with self._lock:
            self._last_extended[receipt_handle] = self._clock()

    def forget(self, receipt_handle: str) -> None:
        """Stop tracking a message (before deleting it: a late renewal of it is harmless)."""
        with self._lock:
            self._last_extended.pop(receipt_handle, None)

    @contextmanager
    def settle(self, receipt_handle: str) -> Iterator[None]:
        """Stop tracking a message; the body runs before any further renewal can start."""
        with self._lock:
            self._last_extended.pop(receipt_handle, None)
            yield

    def in_flight(self) -> int:
        with self._lock:
            return len(self._last_extended)

    def beat(self) -> int:
        """Renew the messages due for it; returns how many were renewed."""
        with self._lock:
            now = self._clock()
            due = [
                handle
                for handle, last in self._last_extended.items()
                if now - last >= self.interval
            ]
            if not due:
                return 0
            try:
                failed = set(self.queue.extend(due, self.visibility_timeout))
            except Exception:
                log.exception(
                    "heartbeat: extending visibility failed", extra={"messages": len(due)}
                )
                return 0
            for handle in due:
                if handle not in failed:
                    self._last_extended[handle] = now
            if failed:
                log.warning("heartbeat: some extensions failed", extra={"failed": len(failed)})
            return len(due) - len(failed)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        # Wake several times per interval so a message is renewed soon after it becomes due.
        tick = max(self.interval / 4, 0.05)
        while not self._stopped.wait(tick):
            self.beat()
