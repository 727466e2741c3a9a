"""Bounded polling: the last value on time out, a named failure for wait_until."""

from __future__ import annotations

import itertools

import pytest

from flashsale_kit.polling import Ticker, WaitTimeout, poll, wait_until


def test_poll_returns_the_first_truthy_value():
    counter = itertools.count()
    assert poll(lambda: next(counter) >= 3 and "done", timeout=5, interval=0.001) == "done"


def test_poll_gives_the_last_value_when_time_runs_out():
    assert poll(lambda: 0, timeout=0.01, interval=0.001) == 0


def test_wait_until_names_what_it_waited_for():
    with pytest.raises(WaitTimeout, match=r"the queue empty not met within 0\.01 s"):
        wait_until(lambda: [], timeout=0.01, interval=0.001, what="the queue empty")
    assert isinstance(WaitTimeout("x"), AssertionError)


def test_ticker_ticks_until_stopped_and_never_after():
    ticks: list[int] = []
    with Ticker(lambda: ticks.append(len(ticks)), interval=0.001) as ticker:
        wait_until(lambda: len(ticks) >= 3, timeout=5, what="three ticks")
    seen = len(ticks)
    ticker.stop()  # stopping twice is harmless
    assert ticks[:3] == [0, 1, 2] and len(ticks) == seen


def test_ticker_stops_by_itself_when_the_tick_says_false():
    ticks: list[int] = []
    ticker = Ticker(lambda: ticks.append(1) or len(ticks) < 2, interval=0.001).start()
    wait_until(lambda: not ticker._thread.is_alive(), timeout=5, what="the ticker's end")
    assert ticks == [1, 1]
