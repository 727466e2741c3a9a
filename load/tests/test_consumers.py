from flashsale.events import decode
from flashsale_load.bench.coldstart import probe_event
from flashsale_load.consumers import LAUNCHER_KEYS, function_env, processor_env


def test_the_processor_gets_as_many_payment_slots_as_workers():
    env = processor_env(20, 0.2)
    assert env == {
        "PROCESSOR_CONCURRENCY": "20",
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
