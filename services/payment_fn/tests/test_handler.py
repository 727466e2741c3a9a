from __future__ import annotations

import json

import pytest

from flashsale.domain.model import OrderStatus
from flashsale.ports import GatewayError
from payment_fn import handler

from .conftest import PeakTracker, World, emitted, sns_event, sqs_event

pytestmark = pytest.mark.filterwarnings("ignore:Disabling idempotency:UserWarning")


def test_sqs_batch_reports_exactly_the_failed_record(install, context, warm):
    world = install(World())
    (paid, paid_body), (broken, broken_body) = world.place(), world.place()
    world.gateway.failing.add(broken.order_id)
    event, ids = sqs_event(paid_body, broken_body, "not an event")

    response = handler.lambda_handler(event, context)

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(ids[1:])
    assert world.orders.get(paid.order_id).status is OrderStatus.COMPLETED
    assert world.orders.get(broken.order_id).status is OrderStatus.PROCESSING  # retried later
    assert world.ledger.charges(broken.order_id) == []


def test_sqs_batch_all_good_reports_no_failures(install, context, warm, capsys):
    world = install(World())
    orders = [world.place() for _ in range(3)]
    event, _ = sqs_event(*(body for _, body in orders))

    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}

    assert all(world.orders.get(o.order_id).status is OrderStatus.COMPLETED for o, _ in orders)
    [emf] = [line for line in emitted(capsys.readouterr().out) if "_aws" in line]
    assert emf["OrdersCompleted"] == [1.0, 1.0, 1.0]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "FlashSale"


def test_a_whole_failing_batch_is_reported_not_raised(install, context, warm):
    install(World())
    event, ids = sqs_event("garbage")
    assert handler.lambda_handler(event, context) == {
        "batchItemFailures": [{"itemIdentifier": ids[0]}]
    }


def test_duplicate_records_are_charged_once(install, context, warm):
    world = install(World(), concurrency=2)
    order, body = world.place()
    event, _ = sqs_event(body, body)  # SQS delivered it twice, even in the same batch

    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}
    again, _ = sqs_event(body)
    assert handler.lambda_handler(again, context) == {"batchItemFailures": []}

    assert len(world.ledger.charges(order.order_id)) == 1
    assert world.orders.get(order.order_id).status is OrderStatus.COMPLETED


def test_records_of_a_batch_are_paid_up_to_payment_concurrency_at_once(install, context, warm):
    tracker = PeakTracker(expected_peak=2)
    world = install(World(sleep=tracker), concurrency=2)
    event, _ = sqs_event(*(world.place()[1] for _ in range(4)))

    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}
    assert tracker.peak == 2


def test_a_record_whose_total_is_not_its_orders_is_failed_and_never_charged(install, context, warm):
    world = install(World())
    order, body = world.place()
    tampered = json.loads(body)
    tampered["data"]["total"] = "0.01"
    event, ids = sqs_event(json.dumps(tampered))

    assert handler.lambda_handler(event, context) == {
        "batchItemFailures": [{"itemIdentifier": ids[0]}]
    }
    assert world.ledger.charges(order.order_id) == []
    assert world.orders.get(order.order_id).status is OrderStatus.PENDING


def test_sns_event_pays_the_order(install, context, warm):
    world = install(World())
    order, body = world.place()

    response = handler.lambda_handler(sns_event(body), context)

    assert [r["status"] for r in response["results"]] == ["completed"]
    assert world.orders.get(order.order_id).status is OrderStatus.COMPLETED


def test_sns_failure_raises_so_lambda_retries(install, context, warm):
    world = install(World())
    order, body = world.place()
    world.gateway.failing.add(order.order_id)

    with pytest.raises(handler.PaymentFailed):
        handler.lambda_handler(sns_event(body), context)

    world.gateway.failing.clear()  # the retry succeeds
    assert handler.lambda_handler(sns_event(body), context)["results"][0]["status"] == "completed"
    assert len(world.ledger.charges(order.order_id)) == 1


def test_an_invalid_sns_event_raises(install, context, warm, capsys):
    install(World())
    with pytest.raises(handler.PaymentFailed, match="InvalidEvent"):
        handler.lambda_handler(sns_event('{"event_type": "OrderPlaced", "version": 99}'), context)
    [emf] = [line for line in emitted(capsys.readouterr().out) if "_aws" in line]
    assert emf["InvalidEvents"] == [1.0]


def test_a_declined_payment_is_recorded_not_retried(install, context, warm):
    world = install(World())
    world.gateway.inner.decline_rate = 1.0
    order, body = world.place(quantity=4)
    event, _ = sqs_event(body)

    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}
    assert world.orders.get(order.order_id).status is OrderStatus.FAILED
    assert world.products.get(1).stock == 100


def test_direct_invocation_with_an_order_placed_body(install, context, warm):
    world = install(World())
    order, body = world.place()
    response = handler.lambda_handler(json.loads(body), context)
    assert response["results"][0]["order_id"] == order.order_id


def test_cold_start_is_measured_and_logged_once(install, context, monkeypatch, log_stream):
    world = install(World())
    monkeypatch.setattr(handler, "_cold", True)
    for _ in range(2):
        handler.lambda_handler(sqs_event(world.place()[1])[0], context)

    lines = emitted(log_stream.getvalue())
    cold = [line for line in lines if line.get("message") == "cold start"]
    assert len(cold) == 1
    assert cold[0]["init_duration_ms"] == round(handler.INIT_DURATION_MS, 1) > 0
    assert cold[0]["function_name"] == context.function_name  # Logger injected the context
    order_lines = [line for line in lines if line.get("message") == "order processed"]
    assert len(order_lines) == 2 and all(line.get("order_id") for line in order_lines)


def test_a_failed_record_is_logged_once_with_a_traceback_only_when_unexpected(
    install, context, warm, log_stream
):
    world = install(World())
    (_, transient_body), (bug, bug_body) = world.place(), world.place()

    def charge(order_id, amount, customer_id, idempotency_key=None):
        if order_id == bug.order_id:
            raise RuntimeError("a bug")
        raise GatewayError("simulated outage")

    world.gateway.charge = charge
    event, ids = sqs_event(transient_body, bug_body)

    response = handler.lambda_handler(event, context)

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(ids)
    lines = emitted(log_stream.getvalue())
    failed = [line for line in lines if line.get("message") == handler.RECORD_FAILED]
    by_error = {line["error"].split("(")[0]: line for line in failed}
    assert len(failed) == 2
    assert sorted(by_error) == ["RuntimeError", "TransientPaymentError"]
    assert "Traceback" in by_error["RuntimeError"]["exception"]
    assert "exception" not in by_error["TransientPaymentError"]
