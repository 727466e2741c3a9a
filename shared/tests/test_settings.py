from flashsale.settings import LOCAL_ADMIN_API_KEY, Settings

LOCAL = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4567",
    "AWS_REGION": "us-east-1",
}


def test_defaults_follow_env_name():
    settings = Settings.from_env({"ENV_NAME": "blue"})
    assert settings.orders_table == "blue-orders"
    assert settings.products_table == "blue-products"
    assert settings.idempotency_table == "blue-idempotency"
    assert settings.payments_table == "blue-payments"
    assert settings.default_route == "ecs"
    assert settings.payment_latency_seconds == 3.0
    assert settings.payment_concurrency == 1
    assert settings.xray_enabled is False
    # Not local and no account known: nothing to derive, and no admin key by default.
    assert settings.order_topic_arn is None
    assert settings.order_queue_url is None
    assert settings.admin_api_key is None


def test_local_defaults_derive_localstack_names():
    settings = Settings.from_env(LOCAL)
    assert settings.env_name == "local"
    assert settings.order_topic_arn == "arn:aws:sns:us-east-1:000000000000:local-order-events"
    assert settings.order_queue_url == (
        "http://127.0.0.1:4566/queue/us-east-1/000000000000/local-order-queue"
    )
    assert settings.order_dlq_url.endswith("/local-order-dlq")
    assert settings.payment_queue_url.endswith("/local-payment-queue")
    assert settings.admin_api_key == LOCAL_ADMIN_API_KEY


def test_explicit_values_win():
    settings = Settings.from_env(
        {
            **LOCAL,
            "ORDERS_TABLE": "o",
            "ORDER_TOPIC_ARN": "arn:x",
            "ORDER_QUEUE_URL": "http://q",
            "PAYMENT_LATENCY_SECONDS": "0.5",
            "PAYMENT_CONCURRENCY": "4",
            "PAYMENT_DECLINE_RATE": "0.1",
            "PROCESSOR_CONCURRENCY": "8",
            "DEFAULT_ROUTE": "LAMBDA",
            "AWS_XRAY_SDK_ENABLED": "true",
            "ADMIN_API_KEY": "secret",
        }
    )
    assert settings.orders_table == "o"
    assert settings.order_topic_arn == "arn:x"
    assert settings.order_queue_url == "http://q"
    assert settings.payment_latency_seconds == 0.5
    assert settings.payment_concurrency == 4
    assert settings.payment_decline_rate == 0.1
    assert settings.processor_concurrency == 8
    assert settings.default_route == "lambda"
    assert settings.xray_enabled is True
    assert settings.admin_api_key == "secret"


def test_endpoint_per_service_then_global():
    settings = Settings.from_env(LOCAL)
    assert settings.endpoint_url("dynamodb") == "http://127.0.0.1:4567"
    assert settings.endpoint_url("sns") == "http://127.0.0.1:4566"
    assert Settings.from_env({}).endpoint_url("sns") is None


def test_settings_are_hashable_for_caching():
    assert hash(Settings.from_env(LOCAL)) == hash(Settings.from_env(dict(LOCAL)))
