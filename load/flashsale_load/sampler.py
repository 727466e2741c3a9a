"""Sampling queue depth (ApproximateNumberOfMessages, ...NotVisible) every second in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from flashsale_kit.polling import Ticker
from flashsale_load import csvrows
from flashsale_load.analysis import QueueSample, SamplerErrors

COLUMNS = ("ts", "label", "queue", "visible", "in_flight")


class QueueSampler:
    """Samples each queue of `queues` (name -> URL) every `interval` s, tagged with `label`."""

    def __init__(
        self,
        counts: Callable[[str], Mapping[str, int]],
        queues: Mapping[str, str],
        interval: float = 1.0,
    ) -> None:
        """`counts(url)`: the queue's visible and in-flight messages (RunningStack.queue_counts)."""
        self._counts = counts
        self._queues = dict(queues)
        self._ticker = Ticker(self.sample_once, interval, "queue-sampler")
        self._lock = threading.Lock()
        self.samples: list[QueueSample] = []
        #: label -> failed samples of that label (a queue that did not answer)
        self.failures: dict[str, SamplerErrors] = {}
        self.label = ""
        self._last_total: int | None = None

    def sample_once(self) -> list[QueueSample]:
        taken = []
        for name, url in self._queues.items():
            try:
                attributes = self._counts(url)
            except Exception as exc:
                self._failed(name, exc)
                continue
            taken.append(
                QueueSample(
                    ts=time.time(),
                    label=self.label,
                    queue=name,
                    visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
                    in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                )
            )
        with self._lock:
            self.samples.extend(taken)
            complete = len(taken) == len(self._queues)
            self._last_total = sum(s.depth for s in taken) if complete else None
        return taken

    def _failed(self, queue: str, exc: Exception) -> None:
        with self._lock:
            seen = self.failures.get(self.label, SamplerErrors())
            self.failures[self.label] = seen.add(f"{queue}: {type(exc).__name__}: {exc}")

    def latest_total(self) -> int | None:
        """Messages in all queues at the last sample; None if it failed or none was taken."""
        with self._lock:
            return self._last_total

    def start(self) -> QueueSampler:
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._ticker.stop()

    def write_csv(self, path: Path) -> None:
        with self._lock:
            rows = list(self.samples)
        write_samples(path, rows)

    def write_errors(self, path: Path) -> None:
        """label -> {count, last}: the samples that failed, written beside the depths."""
        with self._lock:
            failures = {label: seen.__dict__ for label, seen in self.failures.items()}
        path.write_text(json.dumps(failures, indent=2))


def read_errors(path: Path) -> dict[str, SamplerErrors] | None:
    """What `write_errors` wrote; None when the run did not record sampler errors."""
    if not path.exists():
        return None
    return {label: SamplerErrors(**seen) for label, seen in json.loads(path.read_text()).items()}


def write_samples(path: Path, samples: list[QueueSample]) -> None:
    csvrows.write(path, samples, COLUMNS)


def read_samples(path: Path) -> list[QueueSample]:
    return csvrows.read(path, QueueSample)
