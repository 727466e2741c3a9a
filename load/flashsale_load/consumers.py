"""The two consumers of the order backlog, paused while a backlog builds up, resumed with a given
concurrency and payment latency, and put back as they were afterwards.

- ecs: the processor, stopped and started through the launcher (`python -m localaws stop|start
  processor`), which starts it with the caller's environment. Its concurrent payments are
  min(PROCESSOR_CONCURRENCY, PAYMENT_CONCURRENCY): both are set.
- lambda: the payment function, paused by disabling its SQS event source mapping; concurrency
  and latency are set in the function's environment (PAYMENT_CONCURRENCY, PAYMENT_LATENCY_SECONDS).
"""

from __future__ import annotations

from typing import Protocol

from flashsale_load import machine, platform
from flashsale_load.platform import PROCESSOR, Stack

TUNED = ("PROCESSOR_CONCURRENCY", "PAYMENT_CONCURRENCY", "PAYMENT_LATENCY_SECONDS")


def tuning_env(concurrency: int, latency_s: float) -> dict[str, str]:
    return {
        "PROCESSOR_CONCURRENCY": str(concurrency),
        "PAYMENT_CONCURRENCY": str(concurrency),
        "PAYMENT_LATENCY_SECONDS": f"{latency_s:g}",
    }


class Consumer(Protocol):
    name: str
    route: str
    queue: str  # short queue name in Stack.queues

    def pause(self) -> None: ...

    def resume(self, concurrency: int, latency_s: float) -> None: ...

    def restore(self) -> None: ...


class EcsConsumer:
    name = "ecs"
    route = "ecs"
    queue = "order-queue"

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._original: dict[str, str] | None = None

    def _capture(self) -> None:
        if self._original is None:
            pid = machine.pid_records(self.stack.run_dir).get(PROCESSOR)
            environ = machine.process_environ(pid) if pid else {}
            self._original = {key: environ[key] for key in TUNED if key in environ}

    def pause(self) -> None:
        self._capture()
        platform.launcher("stop", PROCESSOR)

    def resume(self, concurrency: int, latency_s: float) -> None:
        platform.launcher("start", PROCESSOR, tuning_env(concurrency, latency_s))

    def restore(self) -> None:
        """Restart the processor with the settings it had before the first pause."""
        if self._original is None:
            return
        platform.launcher("stop", PROCESSOR)
        platform.launcher("start", PROCESSOR, self._original, unset=TUNED)


class LambdaConsumer:
    name = "lambda"
    route = "lambda"
    queue = "payment-queue"

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._original: dict[str, str] | None = None

    def pause(self) -> None:
        if self._original is None:
            self._original = platform.function_env(self.stack)
        platform.set_mapping_enabled(self.stack, False)

    def resume(self, concurrency: int, latency_s: float) -> None:
        assert self._original is not None, "pause() first"
        tuned = tuning_env(concurrency, latency_s)
        del tuned["PROCESSOR_CONCURRENCY"]
        platform.set_function_env(self.stack, {**self._original, **tuned})
        platform.set_mapping_enabled(self.stack, True)

    def restore(self) -> None:
        if self._original is None:
            return
        platform.set_function_env(self.stack, self._original)
        platform.set_mapping_enabled(self.stack, True)


def consumer(name: str, stack: Stack) -> Consumer:
    kinds: dict[str, type] = {"ecs": EcsConsumer, "lambda": LambdaConsumer}
    try:
        return kinds[name](stack)
    except KeyError:
        raise ValueError(f"unknown consumer {name!r}: ecs or lambda") from None
