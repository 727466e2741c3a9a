from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from order_processor.deleter import Deleter

from .conftest import WAIT, wait_until


class GatedQueue:
    """delete_many blocks until `gate` is set, so receipts queue behind a call in flight."""

    def __init__(self, fail_first: bool = False) -> None:
        self.gate = threading.Event()
        self.calls: list[list[str]] = []
        self.fail_first = fail_first

    def delete_many(self, receipt_handles: Sequence[str]) -> list[str]:
        self.calls.append(list(receipt_handles))
        self.gate.wait(WAIT)
        if self.fail_first and len(self.calls) == 1:
            raise ConnectionError("queue endpoint down")
        return [handle for handle in receipt_handles if handle.startswith("bad")]


def test_a_lone_receipt_goes_out_at_once():
    queue = GatedQueue()
    queue.gate.set()
    deleter = Deleter(queue)
    deleter.submit("r1")
    assert wait_until(lambda: queue.calls == [["r1"]])
    assert deleter.close(WAIT)


def test_receipts_that_queue_behind_a_call_share_the_next_ones_ten_at_most():
    queue = GatedQueue()
    deleter = Deleter(queue)
    deleter.submit("first")
    assert wait_until(lambda: len(queue.calls) == 1)
    for n in range(15):
        deleter.submit(f"r{n}")
    queue.gate.set()
    assert deleter.close(WAIT)
    assert queue.calls == [
        ["first"],
        [f"r{n}" for n in range(10)],
        [f"r{n}" for n in range(10, 15)],
    ]
    assert (deleter.calls, deleter.deleted) == (3, 16)


def test_close_sends_what_is_pending_and_refuses_more():
    queue = GatedQueue()
    deleter = Deleter(queue)
    deleter.submit("a")
    deleter.submit("b")
    queue.gate.set()
    assert deleter.close(WAIT)
    assert sorted(handle for call in queue.calls for handle in call) == ["a", "b"]
    with pytest.raises(RuntimeError):
        deleter.submit("late")


def test_close_says_when_deletes_are_still_unsent():
    queue = GatedQueue()  # never opened: the first call hangs for WAIT
    deleter = Deleter(queue)
    deleter.submit("stuck")
    assert wait_until(lambda: len(queue.calls) == 1)
    assert deleter.close(0.05) is False
    queue.gate.set()


def test_a_failed_call_or_entry_is_counted_out_and_later_receipts_still_go(caplog):
    queue = GatedQueue(fail_first=True)
    queue.gate.set()
    deleter = Deleter(queue)
    deleter.submit("lost")
    assert wait_until(lambda: len(queue.calls) == 1)
    deleter.submit("bad-1")
    deleter.submit("ok")
    assert deleter.close(WAIT)
    assert deleter.deleted == 1  # "ok": the first call failed, "bad-1" was refused
    assert "deleting settled messages failed" in caplog.text
    assert "was not deleted" in caplog.text
