"""The two consumers of the order backlog, paused while a backlog builds up, resumed with a given
concurrency and payment latency, and put back as they were afterwards.

- ecs: the processor, stopped and started again through the launcher (`python -m localaws stop
  processor`, `python -m localaws restart processor`), which starts it with the caller's
  environment: PROCESSOR_PAYMENT_CONCURRENCY (its gateway's payment slots: the concurrency
  measured), PROCESSOR_CONCURRENCY (messages in flight: twice the slots, so the next orders are
  read and marked `processing` while payments run) and PAYMENT_LATENCY_SECONDS.
- lambda: the payment function, paused by disabling its SQS event source mapping. A concurrency
  of N payments is the mapping's batches in flight x the payments of one invocation
  (`lambda_split`): the payments per invocation go to the function's environment
  (PAYMENT_CONCURRENCY, with PAYMENT_LATENCY_SECONDS), the batches to the mapping's
  ScalingConfig.MaximumConcurrency, or to a reserved concurrency of 1 for a single batch
  (MaximumConcurrency cannot go below 2). A batch holds enough records per payment slot for
  INVOCATION_SECONDS of payments (the mapping's BatchSize, with a 1 s batching window as AWS
  requires above 10): each invocation starts and ends with its slots idle (its first writes, its
  last outcomes, the trigger's delete, receive and invoke), and the longer it pays, the smaller
  that share. The function works on twice as many records as it has slots, so one invocation's
  own DynamoDB calls overlap its payments instead of adding to them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from flashsale_kit import lambda_levers
from flashsale_kit.running import RunningStack
from flashsale_load import machine

PROCESSOR = "processor"
#: messages the processor holds per payment slot
MESSAGES_PER_PAYMENT = 2
#: payments one invocation runs at once, at most: fuller invocations take less CPU per order
#: (bigger group commits, fewer runtime processes), see load/README.md
MAX_PAYMENTS_PER_INVOCATION = 50
#: how long one invocation pays for, at the least: its batch holds that many seconds of
#: payments per slot (10 records at 0.5 s, 25 at 0.2 s)
INVOCATION_SECONDS = 5.0
#: records per payment slot, at the least: the function works on two per slot at once
MIN_RECORDS_PER_PAYMENT = 2
#: AWS's largest BatchSize for a standard queue
MAX_BATCH_SIZE = 10_000
#: AWS refuses a BatchSize above this without a batching window of at least BATCHING_WINDOW_S
MAX_BATCH_WITHOUT_WINDOW = 10
BATCHING_WINDOW_S = 1
#: an event source mapping's BatchSize when it names none (SQS's default)
DEFAULT_BATCH_SIZE = 10

#: the launcher's variables for the processor -> the variable the running processor shows
LAUNCHER_KEYS = {
    "PROCESSOR_CONCURRENCY": "PROCESSOR_CONCURRENCY",
    "PROCESSOR_PAYMENT_CONCURRENCY": "PAYMENT_CONCURRENCY",
    "PAYMENT_LATENCY_SECONDS": "PAYMENT_LATENCY_SECONDS",
}


def processor_env(concurrency: int, latency_s: float) -> dict[str, str]:
    """What the launcher needs to start the processor with `concurrency` payments of
    `latency_s` seconds."""
    return {
        "PROCESSOR_CONCURRENCY": str(concurrency * MESSAGES_PER_PAYMENT),
        "PROCESSOR_PAYMENT_CONCURRENCY": str(concurrency),
        "PAYMENT_LATENCY_SECONDS": f"{latency_s:g}",
    }


def function_env(original: dict[str, str], concurrency: int, latency_s: float) -> dict[str, str]:
    return {
        **original,
        "PAYMENT_CONCURRENCY": str(concurrency),
        "PAYMENT_LATENCY_SECONDS": f"{latency_s:g}",
    }


@dataclass(frozen=True)
class LambdaSplit:
    """N concurrent payments on the Lambda path."""

    batches: int  # batches in flight (execution environments)
    per_invocation: int  # payments one invocation runs at once
    records_per_payment: int  # records of a batch per payment slot

    @property
    def payments(self) -> int:
        return self.batches * self.per_invocation

    @property
    def batch_size(self) -> int:
        """Records per invocation."""
        return self.per_invocation * self.records_per_payment


def records_per_payment(latency_s: float) -> int:
    """Records per payment slot for INVOCATION_SECONDS of payments of `latency_s` each."""
    if latency_s <= 0:
        raise ValueError(f"payment latency must be positive: {latency_s}")
    return max(MIN_RECORDS_PER_PAYMENT, math.ceil(round(INVOCATION_SECONDS / latency_s, 6)))


def lambda_split(
    concurrency: int, latency_s: float, most: int = MAX_PAYMENTS_PER_INVOCATION
) -> LambdaSplit:
    """Fill each invocation first (fewer environments, fewer cold starts), in equal shares of
    at most `most` payments: with 50, 100 payments are 2 invocations of 50; 60 are 2 of 30.
    Each batch holds INVOCATION_SECONDS of payments, within AWS's largest BatchSize."""
    if concurrency < 1 or most < 1:
        raise ValueError(
            f"concurrency and payments per invocation must be positive: {concurrency}, {most}"
        )
    batches = math.ceil(concurrency / most)
    while concurrency % batches:
        batches += 1
    per_invocation = concurrency // batches
    records = min(records_per_payment(latency_s), MAX_BATCH_SIZE // per_invocation)
    return LambdaSplit(batches, per_invocation, records)


#: AWS refuses a lower ScalingConfig.MaximumConcurrency
MIN_MAXIMUM_CONCURRENCY = 2


class Consumer(Protocol):
    name: str
    route: str
    queue: str  # short queue name in RunningStack.queues

    def pause(self) -> None: ...

    def resume(self, concurrency: int, latency_s: float) -> None: ...

    def restore(self) -> None: ...


class _Tuned:
    """A consumer whose settings are changed for a measurement and put back by `restore`."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        #: the settings before the first pause
        self._original: dict[str, str] | None = None
        self._changed = False


class EcsConsumer(_Tuned):
    name = "ecs"
    route = "ecs"
    queue = "order-queue"

    def _capture(self) -> None:
        if self._original is None:
            environ = machine.component_env(self.stack.run_dir, PROCESSOR, LAUNCHER_KEYS.values())
            self._original = {
                launcher_key: environ[seen]
                for launcher_key, seen in LAUNCHER_KEYS.items()
                if seen in environ
            }

    def pause(self) -> None:
        self._capture()
        self.stack.localaws("stop", PROCESSOR)
        self._changed = True

    def resume(self, concurrency: int, latency_s: float) -> None:
        self.stack.localaws(
            "restart", PROCESSOR, env=processor_env(concurrency, latency_s), unset=LAUNCHER_KEYS
        )

    def restore(self) -> None:
        """Restart the processor with the settings it had before the first pause."""
        if not self._changed or self._original is None:
            return
        self.stack.localaws("restart", PROCESSOR, env=self._original, unset=LAUNCHER_KEYS)


class LambdaConsumer(_Tuned):
    name = "lambda"
    route = "lambda"
    queue = "payment-queue"

    def __init__(self, stack: RunningStack) -> None:
        super().__init__(stack)
        self._original_scaling: int | None = None
        self._original_reserved: int | None = None
        self._original_batch: tuple[int, int] | None = None  # BatchSize, batching window

    def pause(self) -> None:
        if self._original is None:
            self._original = lambda_levers.function_env(self.stack)
            mapping = lambda_levers.payment_mapping(self.stack) or {}
            scaling = mapping.get("ScalingConfig") or {}
            self._original_scaling = scaling.get("MaximumConcurrency") or 0
            self._original_batch = (
                int(mapping.get("BatchSize") or DEFAULT_BATCH_SIZE),
                int(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            )
            self._original_reserved = lambda_levers.reserved_concurrency(self.stack)
        self._changed = True
        lambda_levers.set_mapping_enabled(self.stack, False)

    def split(self, concurrency: int, latency_s: float) -> LambdaSplit:
        return lambda_split(concurrency, latency_s)

    def resume(self, concurrency: int, latency_s: float) -> None:
        assert self._original is not None, "pause() first"
        split = self.split(concurrency, latency_s)
        tuned = function_env(self._original, split.per_invocation, latency_s)
        lambda_levers.set_function_env(self.stack, tuned)
        lambda_levers.set_reserved_concurrency(self.stack, 1 if split.batches == 1 else None)
        lambda_levers.set_mapping_enabled(
            self.stack,
            True,
            maximum_concurrency=max(split.batches, MIN_MAXIMUM_CONCURRENCY),
            batch=(
                split.batch_size,
                BATCHING_WINDOW_S if split.batch_size > MAX_BATCH_WITHOUT_WINDOW else 0,
            ),
        )

    def restore(self) -> None:
        if not self._changed or self._original is None:
            return
        lambda_levers.set_function_env(self.stack, self._original)
        lambda_levers.set_reserved_concurrency(self.stack, self._original_reserved)
        lambda_levers.set_mapping_enabled(
            self.stack,
            True,
            maximum_concurrency=self._original_scaling or 0,
            batch=self._original_batch,
        )


KINDS: dict[str, type] = {"ecs": EcsConsumer, "lambda": LambdaConsumer}


def consumer(name: str, stack: RunningStack) -> Consumer:
    try:
        return KINDS[name](stack)
    except KeyError:
        raise ValueError(f"unknown consumer {name!r}: ecs or lambda") from None


@contextmanager
def alone(stack: RunningStack, target: Consumer) -> Iterator[None]:
    """Measure `target` alone: the other consumers paused meanwhile (an idle processor still
    sweeps, a scan of the orders table after each restart that holds the local DynamoDB for
    seconds and would stall the Lambda's drain mid-run); `target` and the others put back as
    they were afterwards."""
    others = [consumer(name, stack) for name in KINDS if name != target.name]
    for other in others:
        other.pause()
    try:
        yield
    finally:
        for kept in [target, *others]:
            kept.restore()
