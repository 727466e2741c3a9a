"""Group commit's leader hand-over, shared by every writer that batches concurrent callers.

Each caller queues a unit of work and waits. The first caller to find nobody sending becomes the
leader: it takes what is queued (the subclass decides what fits one write) and sends it, batch
after batch, until its own unit is settled; then it hands the lead to the oldest caller still
waiting and returns, so nobody sends for the others for long. There is no timer: a lone unit goes
out at once, and under load the units that arrive while a write is in flight travel together in
the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Generic, TypeVar


class Waiter:
    """One caller's unit: settled once, with the error it failed with (None: it succeeded)."""

    __slots__ = ("done", "error", "lead", "wake")

    def __init__(self) -> None:
        self.done = False
        self.lead = False
        self.error: BaseException | None = None
        self.wake = threading.Event()

    def settle(self, error: BaseException | None = None) -> None:
        self.error = error
        self.done = True
        self.wake.set()


W = TypeVar("W", bound=Waiter)


class Coalescer(Generic[W]):
    """Subclasses give `_take` (what fits one write, taken off `_queue`, under the lock) and
    `_send` (write a batch and settle each of its units)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[W] = []
        self._sending = False

    def _run(self, unit: W) -> None:
        """Queue `unit` and return once it is settled (leading while it is this caller's turn)."""
        with self._lock:
            self._queue.append(unit)
            if not self._sending:
                self._sending = unit.lead = True
        while not unit.done:
            if unit.lead:
                self._lead(unit)
            else:
                unit.wake.wait()
                unit.wake.clear()

    def _lead(self, own: W) -> None:
        try:
            while not own.done:
                with self._lock:
                    batch = self._take()
                try:
                    self._send(batch)
                except BaseException as exc:  # every waiter of the batch must hear of it
                    for unit in batch:
                        if not unit.done:
                            unit.settle(exc)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.wake.set()
                else:
                    self._sending = False

    def _take(self) -> list[W]:
        raise NotImplementedError

    def _send(self, batch: Sequence[W]) -> None:
        raise NotImplementedError
