"""An SQS event source that scales like AWS's, in place of LocalStack's one-batch-at-a-time poller.

LocalStack's SqsPoller takes one batch, invokes the function, and only then polls again (short
polls, backing off to 10 s when the queue is empty). `install()` makes LocalStack's event source
mapping factory wrap the poller of every standard-queue mapping in a `ScalingSqsPoller`: the
mapping's worker thread calls its `poll_events` once a second as a scaling tick, and each
concurrent batch is a slot thread that long-polls, invokes, deletes what succeeded and repeats.
The policy (start at five, AWS's rate while a backlog remains, back to five when idle, caps) is
`scaling.BatchScaler`. Filtering, partial batch responses and deletes stay LocalStack's own
(`SqsPoller.handle_messages`); receives count towards the queue's redrive policy as before.
FIFO queues keep LocalStack's poller (one batch at a time preserves the group order).
Once LocalStack starts shutting down, the slots' long polls are answered at once and no slot
starts another request: a request still open when the gateway stops is never answered, and the
thread serving it would hold the process at exit.
"""

from __future__ import annotations

import logging
import threading
import time

import botocore.config
from localstack.runtime import events
from localstack.services.lambda_.api_utils import function_locators_from_arn
from localstack.services.lambda_.event_source_mapping.esm_worker import EsmWorker
from localstack.services.lambda_.event_source_mapping.esm_worker_factory import EsmWorkerFactory
from localstack.services.lambda_.event_source_mapping.pipe_utils import get_internal_client
from localstack.services.lambda_.event_source_mapping.pollers.poller import Poller
from localstack.services.lambda_.event_source_mapping.pollers.sqs_poller import (
    DEFAULT_MAX_RECEIVE_COUNT,
    DEFAULT_MAX_WAIT_TIME_SECONDS,
    SqsPoller,
)
from localstack.services.lambda_.event_source_mapping.senders.sender_utils import batched
from localstack.services.lambda_.invocation.models import lambda_stores
from localstack.utils.aws.client_types import ServicePrincipal

from localaws_lambda_executor.scaling import (
    MAX_BATCHES,
    BatchScaler,
    concurrency_cap,
    scale_up_per_minute,
)

LOG = logging.getLogger(__name__)

#: a slot above the floor that waits this long without a message leaves (the mapping shrinks)
IDLE_WAIT_SECONDS = 5
#: a slot at the floor long-polls this long: a message is still taken the moment it is queued,
#: and a slot of a mapping just disabled is done within this time. With SQS's 20 s, such a slot
#: kept polling through the next 20 s and caught messages queued meanwhile (a paused mapping's
#: backlog), which then waited out the hand-back below: 8 s gaps in a drain.
FLOOR_WAIT_SECONDS = 2
#: no slot polls longer than this
LONGEST_WAIT_SECONDS = max(IDLE_WAIT_SECONDS, FLOOR_WAIT_SECONDS)
#: the function's longest run plus a margin, as LocalStack's own sender allows
INVOKE_READ_TIMEOUT_SECONDS = 905
#: LocalStack splits very large batches like this (6 MB payload limit)
MINI_BATCH = 2500


def _client_config(read_timeout: float) -> botocore.config.Config:
    """One connection per slot: botocore's default pool (10) would churn connections."""
    return botocore.config.Config(
        retries={"total_max_attempts": 1},
        read_timeout=read_timeout,
        tcp_keepalive=True,
        max_pool_connections=MAX_BATCHES,
    )


def _infra_stopping() -> bool:
    """LocalStack is shutting down: no new request may start. One still in flight when its
    server stops never gets its answer, and the gateway thread serving it then holds the
    process at exit until it is killed."""
    return events.infra_stopping.is_set()


class ScalingSqsPoller(Poller):
    """Wraps a mapping's SqsPoller: `poll_events` is a scaling tick, slots do the polling."""

    def __init__(self, inner: SqsPoller, esm_config: dict) -> None:
        super().__init__(
            inner.source_arn, inner.source_parameters, inner.source_client, inner.processor
        )
        self.inner = inner
        self.esm_config = esm_config
        self.scaler = BatchScaler(scale_up_per_minute())
        self._closed = threading.Event()
        self._next_slot = 0

    def event_source(self) -> str:
        return self.inner.event_source()

    # the tick (the mapping's worker thread) ---------------------------------------------------
    def poll_events(self) -> None:
        if self.inner.is_fifo_queue:
            self.inner.poll_events()
            return
        if _infra_stopping():
            return
        target = self.scaler.tick(time.monotonic(), self._backlog(), self._cap())
        while self.scaler.try_acquire():
            self._next_slot += 1
            threading.Thread(
                target=self._slot,
                name=f"esm-sqs-{self.esm_config['UUID'][:8]}-{self._next_slot}",
                daemon=True,
            ).start()
        LOG.debug(
            "%s: %d batches in flight (target %d)", self.source_arn, self.scaler.active, target
        )

    def close(self) -> None:
        self._closed.set()
        self.inner.close()

    def _stopping(self) -> bool:
        return self._closed.is_set() or _infra_stopping()

    def _backlog(self) -> bool:
        attributes = self.source_client.get_queue_attributes(
            QueueUrl=self.inner.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)) > 0

    def _cap(self) -> int:
        name, _, account, region = function_locators_from_arn(self.esm_config["FunctionArn"])
        function = lambda_stores[account][region].functions.get(name)
        reserved = function.reserved_concurrent_executions if function else None
        maximum = (self.esm_config.get("ScalingConfig") or {}).get("MaximumConcurrency")
        return concurrency_cap(maximum, reserved)

    # one slot: one batch in flight at a time ------------------------------------------------
    def _slot(self) -> None:
        try:
            self._serve()
        except Exception as e:  # keep the mapping alive: a later tick starts a fresh slot
            LOG.warning("SQS event source slot for %s failed: %s", self.source_arn, e)
            self.scaler.release()
            self._closed.wait(1.0)

    def _serve(self) -> None:
        """Batches until the scaler sends this slot away (it is then released) or the mapping
        stops."""
        idle = False
        messages: list[dict] = []
        while True:
            if self._stopping():
                self.scaler.release()
                self._hand_back(messages)
                return
            if self.scaler.should_leave(idle):
                return
            above_floor = self.scaler.active > self.scaler.floor
            messages = self._receive(IDLE_WAIT_SECONDS if above_floor else FLOOR_WAIT_SECONDS)
            if self._stopping():
                continue  # handed back above: the mapping stopped during the poll
            idle = not messages
            for mini_batch in batched(messages, MINI_BATCH):
                self._handle(mini_batch)
            messages = []

    def _receive(self, wait_seconds: int) -> list[dict]:
        """Long-poll until a message arrives, then fill the batch within the batching window."""
        batch_size = self.inner.batch_size
        messages = self._receive_once(batch_size, wait_seconds)
        if not messages or not self.inner.maximum_batching_window:
            return messages
        deadline = time.monotonic() + self.inner.maximum_batching_window
        while len(messages) < batch_size and not self._stopping():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = min(int(remaining + 0.999), LONGEST_WAIT_SECONDS)
            messages += self._receive_once(batch_size - len(messages), wait)
        return messages

    def _receive_once(self, count: int, wait_seconds: int) -> list[dict]:
        response = self.source_client.receive_message(
            QueueUrl=self.inner.queue_url,
            MaxNumberOfMessages=min(count, DEFAULT_MAX_RECEIVE_COUNT),
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            sqs_override_max_message_count=count,  # LocalStack's header: more than 10 at once
        )
        return response.get("Messages", [])

    def _handle(self, messages: list[dict]) -> None:
        try:
            self.inner.handle_messages(messages)
        except Exception as e:  # as LocalStack's poller: the batch stays in the queue
            LOG.warning("Batch processing failed: %s", e, exc_info=LOG.isEnabledFor(logging.DEBUG))

    def _hand_back(self, messages: list[dict]) -> None:
        """A slot stopped (mapping disabled or updated) during its poll: the batch is visible
        again once the other stopped slots' polls are over (LONGEST_WAIT_SECONDS), instead of
        after the visibility timeout. At once, each of them could receive it in turn: every
        receive counts towards the redrive policy, and five would dead-letter it unprocessed."""
        if not messages or _infra_stopping():
            return
        entries = [
            {
                "Id": str(i),
                "ReceiptHandle": m["ReceiptHandle"],
                "VisibilityTimeout": LONGEST_WAIT_SECONDS,
            }
            for i, m in enumerate(messages)
        ]
        for chunk in batched(entries, DEFAULT_MAX_RECEIVE_COUNT):
            self.source_client.change_message_visibility_batch(
                QueueUrl=self.inner.queue_url, Entries=chunk
            )


def _scaling_poller(factory: EsmWorkerFactory, poller: SqsPoller) -> ScalingSqsPoller:
    """The same poller on clients whose pools hold a connection per slot."""
    esm_config = factory.esm_config
    function_arn = esm_config["FunctionArn"]
    source_client = get_internal_client(
        arn=poller.source_arn,
        role_arn=factory.function_role_arn,
        service_principal=ServicePrincipal.lambda_,
        source_arn=function_arn,
        client_config=_client_config(DEFAULT_MAX_WAIT_TIME_SECONDS + 60),
    )
    processor = poller.processor
    sender = getattr(processor, "sender", None)
    if sender is not None:
        sender.target_client = get_internal_client(
            arn=function_arn, client_config=_client_config(INVOKE_READ_TIMEOUT_SECONDS)
        )
    inner = SqsPoller(poller.source_arn, poller.source_parameters, source_client, processor)
    return ScalingSqsPoller(inner, esm_config)


def install() -> None:
    """Make LocalStack's event source mapping factory build scaling SQS pollers (idempotent)."""
    if getattr(EsmWorkerFactory, "_localaws_scaling", False):
        return
    original = EsmWorkerFactory.get_esm_worker

    def get_esm_worker(self: EsmWorkerFactory) -> EsmWorker:
        worker = original(self)
        if type(worker.poller) is SqsPoller:
            worker.poller = _scaling_poller(self, worker.poller)
        return worker

    EsmWorkerFactory.get_esm_worker = get_esm_worker
    EsmWorkerFactory._localaws_scaling = True
    threading.Thread(
        target=_end_long_polls_on_shutdown, name="esm-sqs-shutdown", daemon=True
    ).start()


def _end_long_polls_on_shutdown() -> None:
    """When LocalStack starts shutting down, answer the slots' long polls at once (SQS's own
    stop does the same, but only after the gateway stopped serving: those answers were never
    sent, their threads never ended, and the process waited for them until it was killed)."""
    from localstack.services.sqs.models import sqs_stores

    events.infra_stopping.wait()
    for _account, _region, store in sqs_stores.iter_stores():
        for sqs_queue in list(store.queues.values()):
            sqs_queue.shutdown()
