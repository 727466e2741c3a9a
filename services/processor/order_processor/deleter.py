"""Settled messages are deleted in batches, off the payment slots.

A message is deleted once its order's outcome is recorded; until then it is the only record of
the work. The delete itself can wait a few milliseconds: a message whose delete is lost comes
back after its visibility timeout and is recognised as already decided (payments are idempotent
on order_id). So the payment slot is freed as soon as the outcome is written, and one thread
sends the receipts that queued meanwhile in `DeleteMessageBatch` calls of up to 10: one call for
several orders instead of one each, and no timer (a lone receipt goes out at once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from order_processor.queue import BATCH_LIMIT

log = logging.getLogger(__name__)


class BatchDeletes(Protocol):
    def delete_many(self, receipt_handles: Sequence[str]) -> list[str]:
        """Delete up to 10 messages; returns the receipt handles that failed."""


class Deleter:
    def __init__(self, queue: BatchDeletes, max_batch: int = BATCH_LIMIT) -> None:
        self.queue = queue
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[str] = []
        self._sending = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        #: DeleteMessageBatch calls made, and the messages they deleted
        self.calls = 0
        self.deleted = 0

    def submit(self, receipt_handle: str) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the deleter is closed")
            self._pending.append(receipt_handle)
            self._start()
            self._cond.notify_all()

    def close(self, timeout: float) -> bool:
        """Send what is pending and stop; False if some deletes were still unsent at `timeout`."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            done = self._cond.wait_for(lambda: not self._pending and not self._sending, timeout)
        if not done:
            log.warning(
                "stop timeout: deletes still pending", extra={"pending": len(self._pending)}
            )
        return done

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="deleter", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if not self._pending:  # closed and nothing left
                    self._cond.notify_all()
                    return
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                self._sending = len(batch)
            self._send(batch)
            with self._cond:
                self._sending = 0
                self._cond.notify_all()

    def _send(self, batch: list[str]) -> None:
        try:
            failed = self.queue.delete_many(batch)
        except Exception:
            # Not deleted: the messages come back after their visibility timeout and are
            # recognised as already decided.
            log.exception("deleting settled messages failed", extra={"messages": len(batch)})
            return
        self.calls += 1
        self.deleted += len(batch) - len(failed)
        for receipt in failed:
            log.warning("a settled message was not deleted", extra={"receipt_handle": receipt})
