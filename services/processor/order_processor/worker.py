"""The poll loop: receive as many messages as there are free payment slots, pay them on a
thread pool, settle each message once its outcome is recorded, and stop gracefully."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flashsale import tracing
from flashsale.events import TRACE_HEADER_ATTRIBUTE
from flashsale.services.payments import PaymentDeps
from order_processor.config import MAX_BATCH, ProcessorConfig
from order_processor.deleter import Deleter
from order_processor.handling import Action, Disposition, Outcome, handle
from order_processor.heartbeat import Heartbeat
from order_processor.queue import Message, MessageQueue
from order_processor.stats import Stats

log = logging.getLogger(__name__)

TRACE_SEGMENT = "order-processor"
#: Pause after a failed receive (the queue endpoint is down or throttling).
RECEIVE_ERROR_PAUSE = 2.0


def trace_parent(message: Message) -> tracing.TraceHeader | None:
    """The order's trace header: the publisher's attribute, else SQS's AWSTraceHeader.

    The attribute is exact per order; AWSTraceHeader describes the sending request, which for a
    batched publish (sent outside any request) may be absent or belong to another trace.
    """
    return tracing.TraceHeader.first(
        [message.attributes.get(TRACE_HEADER_ATTRIBUTE), message.aws_trace_header]
    )


class Worker:
    def __init__(
        self,
        queue: MessageQueue,
        deps: PaymentDeps,
        config: ProcessorConfig,
        *,
        heartbeat: Heartbeat | None = None,
        stats: Stats | None = None,
        deleter: Deleter | None = None,
    ):
        self.queue = queue
        self.deps = deps
        self.config = config
        self.heartbeat = heartbeat or Heartbeat(
            queue, config.visibility_timeout, config.heartbeat_interval
        )
        self.stats = stats or Stats(config.summary_every)
        self.deleter = deleter or Deleter(queue)
        self.stopping = threading.Event()
        self._pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="payment")
        self._slots = threading.Condition()
        self._busy = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self) -> bool:
        """Poll until `stop()`, then finish in-flight payments.

        Returns True when every in-flight message was settled within the stop timeout.
        """
        log.info(
            "processor started",
            extra={
                "concurrency": self.config.concurrency,
                "payment_concurrency": self.config.payment_concurrency,
                "visibility_timeout": self.config.visibility_timeout,
                "wait_time_seconds": self.config.wait_time_seconds,
            },
        )
        self.heartbeat.start()
        try:
            while not self.stopping.is_set():
                self.poll_once()
        finally:
            drained = self.drain(self.config.stop_timeout)
            drained = self.deleter.close(self.config.stop_timeout) and drained
            self.heartbeat.stop()
            self._pool.shutdown(wait=False, cancel_futures=True)
        deletes = {"deleted": self.deleter.deleted, "delete_calls": self.deleter.calls}
        log.info("processor stopped", extra={"drained": drained, **self.stats.summary(), **deletes})
        return drained

    def stop(self) -> None:
        """Stop polling (safe to call from a signal handler); in-flight work goes on."""
        self.stopping.set()

    def drain(self, timeout: float) -> bool:
        """Wait until no payment is in flight; False if some still are after `timeout`."""
        with self._slots:
            done = self._slots.wait_for(lambda: self._busy == 0, timeout=timeout)
        if not done:
            log.warning("stop timeout: payments still in flight", extra={"in_flight": self._busy})
        return done

    @property
    def busy(self) -> int:
        return self._busy

    # -- polling -----------------------------------------------------------------------------

    def poll_once(self) -> int:
        """One receive for the free slots; returns how many messages were dispatched."""
        free = self._wait_for_free_slots()
        if free == 0:
            return 0
        try:
            messages = self.queue.receive(
                min(free, MAX_BATCH),
                self.config.wait_time_seconds,
                self.config.visibility_timeout,
            )
        except Exception:
            log.exception("receive failed")
            self.stopping.wait(RECEIVE_ERROR_PAUSE)
            return 0
        if self.stopping.is_set():
            self._release(messages)
            return 0
        for message in messages:
            self._dispatch(message)
        return len(messages)

    def _wait_for_free_slots(self) -> int:
        with self._slots:
            # A short timeout keeps a stop request (which does not notify) noticed promptly.
            self._slots.wait_for(
                lambda: self._busy < self.config.concurrency or self.stopping.is_set(),
                timeout=0.5,
            )
            if self.stopping.is_set():
                return 0
            return max(self.config.concurrency - self._busy, 0)

    def _release(self, messages: list[Message]) -> None:
        """Hand back messages received after a stop request, for another processor to take."""
        for message in messages:
            try:
                self.queue.change_visibility(message.receipt_handle, 0)
            except Exception:
                log.exception("could not release message", extra={"message_id": message.message_id})

    def _dispatch(self, message: Message) -> None:
        with self._slots:
            self._busy += 1
        self.heartbeat.track(message.receipt_handle)
        try:
            self._pool.submit(self._work, message)
        except RuntimeError:  # pool shut down: cannot happen while polling, but never leak a slot
            self.heartbeat.forget(message.receipt_handle)
            self._free_slot()
            raise

    # -- one message -------------------------------------------------------------------------

    def _work(self, message: Message) -> None:
        started = time.monotonic()
        try:
            # One X-Ray segment per message (a no-op unless AWS_XRAY_SDK_ENABLED), continuing
            # the order's trace from the message when it carries one.
            with tracing.segment(
                TRACE_SEGMENT,
                parent=trace_parent(message) if tracing.enabled() else None,
                receive_count=message.receive_count,
                route=message.attributes.get("route", ""),
            ):
                disposition = handle(message, self.deps, self.config.backoff)
                tracing.annotate(order_id=disposition.order_id or "", outcome=disposition.outcome)
                self._settle(message, disposition)
            self._report(message, disposition, time.monotonic() - started)
        except Exception:
            log.exception("handling a message failed", extra={"message_id": message.message_id})
            self.heartbeat.forget(message.receipt_handle)
        finally:
            self._free_slot()

    def _settle(self, message: Message, disposition: Disposition) -> None:
        receipt = message.receipt_handle
        try:
            if disposition.action is Action.DELETE:
                self.heartbeat.forget(receipt)
                self.deleter.submit(receipt)
            else:
                with self.heartbeat.settle(receipt):
                    self.queue.change_visibility(receipt, disposition.visibility or 0)
        except Exception:
            # Not settled: the message reappears after its visibility timeout and is handled
            # again, which is safe (payments are idempotent on order_id).
            log.exception(
                "settling a message failed",
                extra={"message_id": message.message_id, "action": disposition.action.value},
            )

    def _report(self, message: Message, disposition: Disposition, duration: float) -> None:
        fields = {
            "order_id": disposition.order_id,
            "message_id": message.message_id,
            "receive_count": message.receive_count,
            "outcome": disposition.outcome.value,
            "action": disposition.action.value,
            "duration_ms": round(duration * 1000, 1),
        }
        if disposition.duplicate:
            fields["duplicate"] = True
        if disposition.visibility is not None:
            fields["retry_in_s"] = disposition.visibility
        if disposition.detail:
            fields["detail"] = disposition.detail
        if disposition.outcome is Outcome.POISON:
            log.warning("poison message left for the dead-letter queue", extra=fields)
        elif disposition.outcome is Outcome.TRANSIENT:
            log.warning("payment will be retried", extra=fields)
        else:
            log.info("order processed", extra=fields)
        summary = self.stats.record(disposition, duration)
        if summary is not None:
            log.info("summary", extra=summary)

    def _free_slot(self) -> None:
        with self._slots:
            self._busy -= 1
            self._slots.notify_all()
