import pytest

from flashsale.events import decode
from flashsale_load.bench.coldstart import probe_event
from flashsale_load.config import BenchSettings, WorkersSettings
from flashsale_load.consumers import (
    LAUNCHER_KEYS,
    MAX_BATCH_SIZE,
    function_env,
    lambda_split,
    processor_env,
    records_per_payment,
)


def test_the_processor_holds_two_messages_per_payment_slot():
    env = processor_env(20, 0.2)
    assert env == {
        "PROCESSOR_CONCURRENCY": "40",
        "PROCESSOR_PAYMENT_CONCURRENCY": "20",
        "PAYMENT_LATENCY_SECONDS": "0.2",
    }
    assert set(env) == set(LAUNCHER_KEYS)


def test_the_function_keeps_its_other_variables():
    env = function_env({"ENV_NAME": "local", "PAYMENT_CONCURRENCY": "10"}, 5, 0.5)
    assert env == {
        "ENV_NAME": "local",
        "PAYMENT_CONCURRENCY": "5",
        "PAYMENT_LATENCY_SECONDS": "0.5",
    }


def test_cold_start_probe_is_a_valid_sqs_batch_of_one_order_placed():
    arn = "arn:aws:sqs:us-east-1:000000000000:local-payment-queue"
    event = probe_event(arn)
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    placed = decode(record["body"])
    assert placed.route == "lambda" and placed.order_id
    assert probe_event(arn)["Records"][0]["body"] != record["body"]  # a new order each time


@pytest.mark.parametrize(
    ("payments", "most", "batches", "per_invocation"),
    [
        (1, 10, 1, 1),
        (5, 10, 1, 5),
        (20, 10, 2, 10),
        (100, 10, 10, 10),
        (15, 10, 3, 5),
        (13, 10, 13, 1),
        (20, 4, 5, 4),
    ],
)
def test_lambda_payments_are_batches_in_flight_times_payments_per_invocation(
    payments, most, batches, per_invocation
):
    split = lambda_split(payments, 0.5, most)
    assert (split.batches, split.per_invocation) == (batches, per_invocation)
    assert split.payments == payments
    assert split.per_invocation <= most
    assert split.batch_size == per_invocation * 10  # 5 s of 0.5 s payments per slot


@pytest.mark.parametrize(
    ("latency_s", "records"), [(0.5, 10), (0.2, 25), (0.3, 17), (3.0, 2), (10.0, 2)]
)
def test_a_batch_holds_five_seconds_of_payments_per_slot(latency_s, records):
    assert records_per_payment(latency_s) == records
    assert lambda_split(20, latency_s).batch_size == 20 * records


def test_a_batch_never_exceeds_the_largest_batch_size_aws_takes():
    split = lambda_split(20, 0.001)
    assert split.batch_size <= MAX_BATCH_SIZE
    assert split.records_per_payment == MAX_BATCH_SIZE // 20


def test_lambda_split_refuses_nonsense():
    with pytest.raises(ValueError, match="positive"):
        lambda_split(0, 0.5, 10)
    with pytest.raises(ValueError, match="latency"):
        lambda_split(20, 0)


def test_workers_backlog_grows_with_concurrency_to_drain_for_the_set_time():
    settings = WorkersSettings.from_env({"DRAIN_SECONDS": "15", "WORKERS_LATENCY": "0.5"})
    assert [settings.backlog(c) for c in (1, 5, 20, 100)] == [30, 150, 600, 3000]


def test_bench_drains_both_consumers_unless_told_otherwise():
    assert BenchSettings.from_env({}).drain_consumers == ("ecs", "lambda")
    assert BenchSettings.from_env({"BENCH_CONSUMER": "lambda"}).drain_consumers == ("lambda",)
