"""Running totals, and the one-line summary logged every N handled messages."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from order_processor.handling import Disposition


class Stats:
    def __init__(self, every: int, clock: Callable[[], float] = time.monotonic):
        self.every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._handled = 0
        self._duration_total = 0.0
        self._window_started = clock()
        self._window_handled = 0

    def record(self, disposition: Disposition, duration: float) -> dict[str, Any] | None:
        """Count one handled message; returns a summary when one is due."""
        with self._lock:
            self._handled += 1
            self._window_handled += 1
            self._duration_total += duration
            self._counts[disposition.outcome.value] += 1
            if disposition.duplicate:
                self._counts["duplicate"] += 1
            if self._handled % self.every:
                return None
            return self._summary_locked(reset_window=True)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return self._summary_locked(reset_window=False)

    def _summary_locked(self, reset_window: bool) -> dict[str, Any]:
        now = self._clock()
        elapsed = max(now - self._window_started, 1e-9)
        summary = {
            "handled": self._handled,
            **dict(sorted(self._counts.items())),
            "avg_duration_ms": round(1000 * self._duration_total / max(self._handled, 1), 1),
            "rate_per_s": round(self._window_handled / elapsed, 2),
        }
        if reset_window:
            self._window_started, self._window_handled = now, 0
        return summary
