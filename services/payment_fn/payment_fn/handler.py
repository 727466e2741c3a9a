"""payment_fn.handler.lambda_handler: pay the orders of an SQS batch, an SNS event or a direct call.

- SQS (`{env}-payment-queue`, ReportBatchItemFailures): records are paid concurrently on the
  runtime's pool (the gateway pays PAYMENT_CONCURRENCY at once) and only the failed ones are
  reported back (`batchItemFailures`) for a retry; the queue's redrive policy dead-letters a
  record that keeps failing (poison included). The partial response is built here rather than
  by Powertools' batch utility, whose import loads every event source's data classes (~11 ms
  of each cold start) and whose async processor ran an event loop per invocation.
- SNS (`Records[].Sns.Message`): a failure raises, so Lambda's async retries and then the
  on-failure destination / DLQ take the event.
- Direct invocation with an OrderPlaced body (benchmarks, manual replays): like SNS.
Every path calls the one payment flow through Powertools idempotency on order_id.

Tracing: Powertools' Tracer records the invocation (Lambda's own trace). A record that carries its
order's trace header (the publisher's `trace_header` attribute, else SQS's AWSTraceHeader) is paid
inside a segment of that order's trace instead, so one order is one trace from the API onwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import payment_fn
from flashsale import tracing
from flashsale.domain.model import OrderMismatch, OrderNotFound
from flashsale.events import TRACE_HEADER_ATTRIBUTE, InvalidEvent, decode
from flashsale.services.payments import TransientPaymentError
from payment_fn import runtime
from payment_fn.observability import MetricUnit, logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


#: Logged for each record that failed: the words of Powertools' batch processor, which the
#: delivery-fault scenarios count per invocation.
RECORD_FAILED = "Record processing exception; skipping this record"
#: Failures whose message says it all (a poison body, an unknown order, an event that is not its
#: order's, a gateway error, an unknown outcome): logged without a traceback, whose formatting
#: (Python parses the source line of every frame) was a fifth of a failing record's CPU. Any
#: other error keeps its traceback.
EXPECTED_FAILURES = (InvalidEvent, OrderNotFound, OrderMismatch, TransientPaymentError)


class PaymentFailed(Exception):
    """Some records of an SNS or direct event failed; raising makes Lambda retry the event."""


# -- one order -------------------------------------------------------------------------------


@tracer.capture_method
def pay_message(body: str) -> dict[str, Any]:
    """Decode one OrderPlaced body and pay its order (idempotent on order_id).

    Runs on a pool thread for SQS batches: the order_id log key is thread-local.
    """
    event = decode(body)  # InvalidEvent: a poison message
    logger.thread_safe_append_keys(order_id=event.order_id)
    try:
        tracer.put_annotation("order_id", event.order_id)
        result = runtime.get().pay(order=runtime.pay_request(event))
        logger.info("order processed", extra={"outcome": result})
        return result
    except Exception as exc:  # the failure itself is logged once, by `settle`
        logger.warning("payment not recorded", extra={"error": repr(exc)})
        raise
    finally:
        logger.thread_safe_clear_keys()


def pay_traced(body: str, parent: tracing.TraceHeader | None, function_name: str) -> dict[str, Any]:
    """pay_message, inside a segment of the order's trace when the record carries its header."""
    if parent is None or not tracing.enabled():
        return pay_message(body)
    with tracing.segment(
        function_name, parent=parent, origin=tracing.LAMBDA_ORIGIN, route="lambda"
    ):
        result = pay_message(body)
        tracing.annotate(order_id=result["order_id"], outcome=result["status"])
        return result


def sqs_trace_parent(record: Mapping[str, Any]) -> tracing.TraceHeader | None:
    attribute = (record.get("messageAttributes") or {}).get(TRACE_HEADER_ATTRIBUTE) or {}
    aws_header = (record.get("attributes") or {}).get("AWSTraceHeader")
    # ours first: exact per order, while AWSTraceHeader describes the sending request
    return tracing.TraceHeader.first([attribute.get("stringValue"), aws_header])


def sns_trace_parent(message: Mapping[str, Any]) -> tracing.TraceHeader | None:
    attribute = (message.get("MessageAttributes") or {}).get(TRACE_HEADER_ATTRIBUTE) or {}
    return tracing.TraceHeader.parse(attribute.get("Value"))


def count(result: dict[str, Any] | None = None, error: Exception | None = None) -> None:
    """Business metrics; called on the handler's own thread only (Metrics is not thread-safe)."""
    if error is not None:
        name = "InvalidEvents" if isinstance(error, InvalidEvent) else "PaymentErrors"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    elif result is not None and result.get("duplicate"):
        metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
    elif result is not None:
        name = "OrdersCompleted" if result["status"] == "completed" else "OrdersFailed"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


# -- event sources ---------------------------------------------------------------------------


Settled = tuple[dict[str, Any], None] | tuple[None, Exception]


def settle(outcome: Callable[[], dict[str, Any]]) -> Settled:
    """(result, None) or, when the payment failed, (None, error): counted either way, a failure
    logged once. On the handler's own thread, like every metric."""
    try:
        result = outcome()
    except Exception as exc:
        count(error=exc)
        expected = isinstance(exc, EXPECTED_FAILURES)
        logger.warning(RECORD_FAILED, exc_info=not expected, extra={"error": repr(exc)})
        return None, exc
    count(result)
    return result, None


def pay_sqs_batch(records: list[dict[str, Any]], function_name: str) -> dict[str, Any]:
    """Pay the records of an SQS batch concurrently; the partial batch response lists the
    failed ones only, so SQS deletes the rest and redelivers those."""
    pool = runtime.get().executor
    futures: list[tuple[str, Future[dict[str, Any]]]] = [
        (
            record["messageId"],
            pool.submit(pay_traced, record["body"], sqs_trace_parent(record), function_name),
        )
        for record in records
    ]
    failures = [
        {"itemIdentifier": message_id}
        for message_id, future in futures
        if settle(future.result)[1] is not None
    ]
    return {"batchItemFailures": failures}


def pay_bodies(
    messages: list[tuple[str, tracing.TraceHeader | None]], function_name: str
) -> list[dict[str, Any]]:
    """Pay each (body, trace parent) in turn; raise PaymentFailed after trying all if any failed."""
    settled = [
        settle(lambda body=body, parent=parent: pay_traced(body, parent, function_name))
        for body, parent in messages
    ]
    failures = [repr(error) for _, error in settled if error is not None]
    if failures:
        raise PaymentFailed(f"{len(failures)} of {len(messages)} payment(s) failed: {failures}")
    return [result for result, _ in settled if result is not None]


def _source(event: dict[str, Any]) -> str:
    records = event.get("Records")
    if not records:
        return "direct"
    first = records[0]
    return first.get("eventSource") or first.get("EventSource") or "unknown"


# -- cold start ------------------------------------------------------------------------------

#: Module init (imports + Powertools setup), in ms: what a benchmark reports as cold-start cost.
INIT_DURATION_MS = (time.perf_counter() - payment_fn.INIT_STARTED) * 1000
_cold = True


def _report_cold_start(setup_ms: float) -> None:
    global _cold
    if not _cold:
        return
    _cold = False
    metrics.add_metric(name="InitDuration", unit=MetricUnit.Milliseconds, value=INIT_DURATION_MS)
    logger.info(
        "cold start",
        extra={
            "init_duration_ms": round(INIT_DURATION_MS, 1),
            "setup_duration_ms": round(setup_ms, 1),
        },
    )


# -- entrypoint ------------------------------------------------------------------------------


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wiring = runtime.get()
    _report_cold_start(wiring.setup_ms)
    wiring.idempotency.register_lambda_context(context)
    source = _source(event)
    name = context.function_name
    if source == "aws:sqs":
        return pay_sqs_batch(event["Records"], name)
    if source == "aws:sns":
        messages = [(r["Sns"]["Message"], sns_trace_parent(r["Sns"])) for r in event["Records"]]
        return {"results": pay_bodies(messages, name)}
    if source == "direct":
        return {"results": pay_bodies([(json.dumps(event), None)], name)}
    raise ValueError(f"unsupported event source {source!r}")
