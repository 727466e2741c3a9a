"""How many batches an SQS event source mapping keeps in flight, as AWS documents it.

Lambda starts with five concurrent batches, adds up to 300 more per minute while the queue holds
messages, scales back towards five when traffic is low, and never goes above the mapping's
`ScalingConfig.MaximumConcurrency` nor the function's reserved concurrency
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). Pure logic: no
LocalStack, no clock of its own (the caller passes the time), so it is unit-tested on its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

INITIAL_BATCHES = 5
#: AWS's documented scale-up rate for standard queues
AWS_SCALE_UP_PER_MINUTE = 300.0
#: the most batches one mapping processes at once on AWS
MAX_BATCHES = 1000
#: setting (LocalStack's environment) that changes the scale-up rate, e.g. for short local runs
SCALE_UP_VAR = "LAMBDA_SQS_SCALE_UP_PER_MINUTE"


def scale_up_per_minute(environ: Mapping[str, str] = os.environ) -> float:
    """The configured rate; a clear error for a value that is not a positive number."""
    raw = environ.get(SCALE_UP_VAR, "").strip()
    if not raw:
        return AWS_SCALE_UP_PER_MINUTE
    try:
        rate = float(raw)
    except ValueError:
        rate = 0.0
    if not rate > 0:
        raise ValueError(f"{SCALE_UP_VAR} must be a positive number of batches per minute: {raw!r}")
    return rate


def concurrency_cap(maximum_concurrency: int | None, reserved: int | None) -> int:
    """The most batches in flight: the mapping's MaximumConcurrency and the function's reserved
    concurrency (either may be unset), within AWS's 1,000."""
    cap = MAX_BATCHES
    if maximum_concurrency:
        cap = min(cap, maximum_concurrency)
    if reserved is not None:
        cap = min(cap, reserved)
    return max(cap, 0)


class BatchScaler:
    """The target number of concurrent batches and the slots that hold them.

    A slot is one poller thread: it takes a batch, invokes the function, and repeats. `tick`
    grows the target while a backlog remains; `try_acquire` admits a new slot below the target;
    `should_leave` tells a slot to stop when the target fell (a lower cap, or idleness).
    """

    def __init__(self, rate_per_minute: float = AWS_SCALE_UP_PER_MINUTE) -> None:
        self.rate_per_minute = rate_per_minute
        self.cap = MAX_BATCHES
        self._target = float(INITIAL_BATCHES)
        self._active = 0
        self._last_tick: float | None = None
        self._lock = threading.Lock()

    @property
    def floor(self) -> int:
        """What the mapping keeps polling with when idle."""
        return min(INITIAL_BATCHES, self.cap)

    @property
    def target(self) -> int:
        return min(int(self._target), self.cap)

    @property
    def active(self) -> int:
        return self._active

    def tick(self, now: float, backlog: bool, cap: int) -> int:
        """Apply a new cap; add the rate's share of the time since the last tick while a
        backlog remains. Returns the target."""
        with self._lock:
            self.cap = cap
            elapsed = 0.0 if self._last_tick is None else max(now - self._last_tick, 0.0)
            self._last_tick = now
            if backlog:
                self._target += self.rate_per_minute * elapsed / 60.0
            self._target = min(max(self._target, float(self.floor)), float(cap))
            return self.target

    def try_acquire(self) -> bool:
        """A new slot may start: fewer slots than the target."""
        with self._lock:
            if self._active >= self.target:
                return False
            self._active += 1
            return True

    def should_leave(self, idle: bool) -> bool:
        """Called by a slot between batches: True means the slot has left (and is released).

        A slot leaves when there are more slots than the target, or when it found the queue
        empty while the mapping runs above its floor (the target then shrinks by one).
        """
        with self._lock:
            if idle and self._active > self.floor:
                self._target = max(min(self._target, float(self._active)) - 1, float(self.floor))
            if self._active > self.target:
                self._active -= 1
                return True
            return False

    def release(self) -> None:
        """A slot ended for another reason (shutdown, an error)."""
        with self._lock:
            self._active = max(self._active - 1, 0)
