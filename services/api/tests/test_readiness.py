"""The real readiness probe against moto's in-process AWS."""

from __future__ import annotations

import pytest
from moto import mock_aws

from flashsale import aws
from flashsale.settings import Settings
from orders_api.readiness import AwsReadinessProbe, CachedReadiness


@pytest.fixture
def mocked(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SNS"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        aws.reset()
        yield
    aws.reset()


def _create_tables(settings: Settings) -> None:
    dynamodb = aws.client("dynamodb", settings)
    for name in AwsReadinessProbe(settings).tables().values():
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def test_ready_when_tables_and_topic_exist(mocked):
    settings = Settings(region="us-east-1")
    _create_tables(settings)
    arn = aws.client("sns", settings).create_topic(Name="local-order-events")["TopicArn"]
    probe = AwsReadinessProbe(Settings(region="us-east-1", order_topic_arn=arn))

    assert all(problem is None for problem in probe.check().values())


def test_names_a_missing_table_and_topic(mocked):
    settings = Settings(region="us-east-1")
    _create_tables(settings)
    aws.client("dynamodb", settings).delete_table(TableName=settings.payments_table)
    missing = "arn:aws:sns:us-east-1:123456789012:nope"

    problems = AwsReadinessProbe(Settings(region="us-east-1", order_topic_arn=missing)).check()

    assert problems["orders_table"] is None
    assert "ResourceNotFound" in problems["payments_table"]
    assert problems["order_topic"] and "NotFound" in problems["order_topic"]


def test_unconfigured_topic_is_not_ready(mocked):
    settings = Settings(region="us-east-1")
    _create_tables(settings)
    problems = AwsReadinessProbe(settings).check()
    assert problems["order_topic"] == "ORDER_TOPIC_ARN is not configured"


def test_unreachable_endpoint_is_reported_not_raised(monkeypatch):
    # a closed local port: the connection is refused at once
    settings = Settings(endpoint_urls=(("", "http://127.0.0.1:9"),), order_topic_arn="arn:x")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    aws.reset()
    problems = AwsReadinessProbe(settings).check()
    aws.reset()
    assert problems and all("EndpointConnectionError" in p for p in problems.values())


class CountingProbe:
    def __init__(self) -> None:
        self.calls = 0
        self.problems: dict[str, str | None] = {"orders_table": None}

    def check(self) -> dict[str, str | None]:
        self.calls += 1
        return dict(self.problems)


def test_cached_readiness_reuses_its_answer_within_the_ttl():
    now = [100.0]
    probe = CountingProbe()
    cached = CachedReadiness(probe, ttl=5.0, clock=lambda: now[0])

    assert [cached.check() for _ in range(50)][-1] == {"orders_table": None}
    assert probe.calls == 1
    probe.problems["orders_table"] = "ResourceNotFoundException"
    now[0] += 4.9
    assert cached.check() == {"orders_table": None} and probe.calls == 1
    now[0] += 0.2
    assert cached.check() == {"orders_table": "ResourceNotFoundException"}
    assert probe.calls == 2
