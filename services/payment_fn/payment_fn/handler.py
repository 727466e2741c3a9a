"""payment_fn.handler.lambda_handler: pay the orders of an SQS batch, an SNS event or a direct call.

- SQS (`{env}-payment-queue`, ReportBatchItemFailures): records are paid concurrently (up to
  PAYMENT_CONCURRENCY at once) and only the failed ones are reported back for a retry; the
  queue's redrive policy dead-letters a record that keeps failing (poison included).
- SNS (`Records[].Sns.Message`): a failure raises, so Lambda's async retries and then the
  on-failure destination / DLQ take the event.
- Direct invocation with an OrderPlaced body (benchmarks, manual replays): like SNS.
Every path calls the one payment flow through Powertools idempotency on order_id.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

import payment_fn
from flashsale.events import InvalidEvent, decode
from payment_fn import runtime
from payment_fn.observability import MetricUnit, logger, metrics, tracer

processor = AsyncBatchProcessor(
    event_type=EventType.SQS, raise_on_entire_batch_failure=False, logger=logger
)


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
        result = runtime.get().pay(order={"order_id": event.order_id})
        logger.info("order processed", extra={"outcome": result})
        return result
    except Exception as exc:  # the traceback is logged once, by the caller's failure handling
        logger.warning("payment not recorded", extra={"error": repr(exc)})
        raise
    finally:
        logger.thread_safe_clear_keys()


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


async def sqs_record(record: SQSRecord) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    try:
        result = await loop.run_in_executor(runtime.get().executor, pay_message, record.body)
    except Exception as exc:
        count(error=exc)
        raise
    count(result)
    return result


def pay_bodies(bodies: list[str]) -> list[dict[str, Any]]:
    """Pay each body in turn; raise PaymentFailed after trying all if any failed."""
    results, failures = [], []
    for body in bodies:
        try:
            result = pay_message(body)
        except Exception as exc:
            count(error=exc)
            logger.exception("record failed")
            failures.append(repr(exc))
            continue
        count(result)
        results.append(result)
    if failures:
        raise PaymentFailed(f"{len(failures)} of {len(bodies)} payment(s) failed: {failures}")
    return results


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
    if source == "aws:sqs":
        return async_process_partial_response(
            event=event, record_handler=sqs_record, processor=processor, context=context
        )
    if source == "aws:sns":
        return {"results": pay_bodies([record["Sns"]["Message"] for record in event["Records"]])}
    if source == "direct":
        return {"results": pay_bodies([json.dumps(event)])}
    raise ValueError(f"unsupported event source {source!r}")
