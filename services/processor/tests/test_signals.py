from __future__ import annotations

import signal

import pytest

from order_processor import signals


@pytest.fixture
def restore_handlers():
    saved = {signum: signal.getsignal(signum) for signum in signals.STOP_SIGNALS}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_first_signal_stops_gracefully_second_exits_at_once(restore_handlers):
    stops: list[bool] = []
    exits: list[int] = []
    signals.install(lambda: stops.append(True), exit_now=exits.append)

    signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
    assert (stops, exits) == ([True], [])

    signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
    assert (stops, exits) == ([True], [128 + signal.SIGINT])
