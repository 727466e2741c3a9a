"""Bounded polling: the last value on time out, a named failure for wait_until."""

from __future__ import annotations

import itertools

import pytest

from flashsale_kit.polling import WaitTimeout, poll, wait_until


def test_poll_returns_the_first_truthy_value():
    counter = itertools.count()
    assert poll(lambda: next(counter) >= 3 and "done", timeout=5, interval=0.001) == "done"


def test_poll_gives_the_last_value_when_time_runs_out():
    assert poll(lambda: 0, timeout=0.01, interval=0.001) == 0


def test_wait_until_names_what_it_waited_for():
    with pytest.raises(WaitTimeout, match=r"the queue empty not met within 0\.01 s"):
        wait_until(lambda: [], timeout=0.01, interval=0.001, what="the queue empty")
    assert isinstance(WaitTimeout("x"), AssertionError)
