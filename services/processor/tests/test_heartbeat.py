from __future__ import annotations

from order_processor.heartbeat import Heartbeat

from .conftest import FakeQueue


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_renews_only_messages_due_for_it():
    queue, clock = FakeQueue(), Clock()
    heartbeat = Heartbeat(queue, visibility_timeout=30, interval=10, clock=clock)
    heartbeat.track("old")
    clock.now += 6
    heartbeat.track("new")

    assert heartbeat.beat() == 0
    clock.now += 4  # "old" is 10 s old, "new" 4 s
    assert heartbeat.beat() == 1
    assert queue.extended == [("old", 30)]

    clock.now += 6  # "new" is now due; "old" was just renewed
    assert heartbeat.beat() == 1
    assert queue.extended[-1] == ("new", 30)


def test_settled_and_forgotten_messages_are_no_longer_renewed():
    queue, clock = FakeQueue(), Clock()
    heartbeat = Heartbeat(queue, visibility_timeout=30, interval=10, clock=clock)
    heartbeat.track("retry")
    heartbeat.track("done")
    with heartbeat.settle("retry"):
        queue.change_visibility("retry", 5)
    heartbeat.forget("done")
    clock.now += 60

    assert heartbeat.beat() == 0
    assert queue.extended == []
    assert heartbeat.in_flight() == 0


def test_a_failed_renewal_is_tried_again_next_beat():
    class Flaky(FakeQueue):
        def extend(self, receipt_handles, timeout):
            super().extend(receipt_handles, timeout)
            return list(receipt_handles)  # every entry failed

    queue, clock = Flaky(), Clock()
    heartbeat = Heartbeat(queue, visibility_timeout=30, interval=10, clock=clock)
    heartbeat.track("m")
    clock.now += 10
    assert heartbeat.beat() == 0
    assert heartbeat.beat() == 0  # still due: tried again
    assert queue.extended == [("m", 30), ("m", 30)]
