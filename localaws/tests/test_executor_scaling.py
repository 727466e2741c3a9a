"""The SQS event source's scaling policy: five batches at first, AWS's rate, caps, shrinking."""

from __future__ import annotations

import pytest

from localaws_lambda_executor.scaling import (
    AWS_SCALE_UP_PER_MINUTE,
    MAX_BATCHES,
    SCALE_UP_VAR,
    BatchScaler,
    concurrency_cap,
    scale_up_per_minute,
)


def acquire_all(scaler: BatchScaler) -> int:
    started = 0
    while scaler.try_acquire():
        started += 1
    return started


def test_starts_with_five_batches():
    scaler = BatchScaler()
    assert scaler.tick(0.0, backlog=True, cap=MAX_BATCHES) == 5
    assert acquire_all(scaler) == 5
    assert scaler.active == 5


def test_grows_at_aws_rate_while_a_backlog_remains():
    scaler = BatchScaler()
    scaler.tick(0.0, backlog=True, cap=MAX_BATCHES)
    # 300 per minute: 5 more each second
    assert scaler.tick(1.0, backlog=True, cap=MAX_BATCHES) == 10
    assert scaler.tick(13.0, backlog=True, cap=MAX_BATCHES) == 70
    assert scaler.tick(73.0, backlog=True, cap=MAX_BATCHES) == 370


def test_does_not_grow_without_a_backlog():
    scaler = BatchScaler()
    scaler.tick(0.0, backlog=False, cap=MAX_BATCHES)
    assert scaler.tick(60.0, backlog=False, cap=MAX_BATCHES) == 5


def test_faster_rate_setting():
    scaler = BatchScaler(rate_per_minute=6000)
    scaler.tick(0.0, backlog=True, cap=MAX_BATCHES)
    assert scaler.tick(1.0, backlog=True, cap=MAX_BATCHES) == 105


@pytest.mark.parametrize(
    ("maximum", "reserved", "cap"),
    [(None, None, MAX_BATCHES), (20, None, 20), (None, 3, 3), (20, 3, 3), (2, 50, 2), (None, 0, 0)],
)
def test_cap_is_the_lowest_of_maximum_concurrency_and_reserved(maximum, reserved, cap):
    assert concurrency_cap(maximum, reserved) == cap


def test_never_above_the_cap():
    scaler = BatchScaler()
    scaler.tick(0.0, backlog=True, cap=2)
    assert acquire_all(scaler) == 2
    assert scaler.tick(100.0, backlog=True, cap=2) == 2
    assert acquire_all(scaler) == 0


def test_a_lower_cap_sends_slots_away_between_batches():
    scaler = BatchScaler()
    scaler.tick(0.0, backlog=True, cap=20)
    scaler.tick(3.0, backlog=True, cap=20)
    assert acquire_all(scaler) == 20
    scaler.tick(4.0, backlog=True, cap=12)
    left = sum(scaler.should_leave(idle=False) for _ in range(20))
    assert left == 8
    assert scaler.active == 12


def test_shrinks_to_five_when_idle():
    scaler = BatchScaler()
    scaler.tick(0.0, backlog=True, cap=MAX_BATCHES)
    scaler.tick(2.0, backlog=True, cap=MAX_BATCHES)
    assert acquire_all(scaler) == 15
    scaler.tick(3.0, backlog=False, cap=MAX_BATCHES)
    left = sum(scaler.should_leave(idle=True) for _ in range(15))
    assert left == 10
    assert scaler.active == scaler.target == 5
    # at the floor an idle slot keeps polling
    assert not scaler.should_leave(idle=True)


def test_reserved_concurrency_zero_stops_every_slot():
    scaler = BatchScaler()
    scaler.tick(0.0, backlog=True, cap=MAX_BATCHES)
    acquire_all(scaler)
    scaler.tick(1.0, backlog=True, cap=0)
    assert all(scaler.should_leave(idle=False) for _ in range(5))
    assert scaler.active == 0
    assert not scaler.try_acquire()


def test_scale_up_setting():
    assert scale_up_per_minute({}) == AWS_SCALE_UP_PER_MINUTE
    assert scale_up_per_minute({SCALE_UP_VAR: "3000"}) == 3000.0
    for bad in ("fast", "0", "-5"):
        with pytest.raises(ValueError, match=SCALE_UP_VAR):
            scale_up_per_minute({SCALE_UP_VAR: bad})
