"""scripts/pipeline_figures.py: sync orders are counted completed (not declined) within the span
locust measured, in the private API's orders table (moto in-process)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from flashsale.adapters.dynamodb import create_tables
from flashsale.adapters.dynamodb.codec import order_to_item
from flashsale.domain.model import Order, OrderItem
from flashsale.settings import Settings

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pipeline_figures.py"
SPAN = (datetime(2026, 1, 31, 12, 0, tzinfo=UTC), datetime(2026, 1, 31, 12, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("pipeline_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture
def settings(fake_aws):
    settings = Settings.from_env({"ENV_NAME": "figures1", "AWS_REGION": "us-east-1"})
    create_tables(boto3.client("dynamodb"), settings)
    yield settings


def put(settings, route: str, status: str, at: str, created_at: str | None = None) -> None:
    order = Order.new(1, [OrderItem(1, 1, Decimal("1.00"))], route)
    order = replace(order, status=status, created_at=created_at or at, **{f"{status}_at": at})
    boto3.client("dynamodb").put_item(TableName=settings.orders_table, Item=order_to_item(order))


def test_sync_counts_completed_orders_within_the_measured_span(figures, settings):
    first, last = (t.timestamp() for t in SPAN)
    put(settings, "sync", "completed", "2026-01-31T12:00:03.000Z", "2026-01-31T12:00:00.000Z")
    put(settings, "sync", "completed", "2026-01-31T12:00:59.999Z")
    put(settings, "sync", "completed", "2026-01-31T12:01:03.000Z")  # answered after the span
    put(settings, "sync", "failed", "2026-01-31T12:00:20.000Z")  # a 402 decline: an answer
    put(settings, "ecs", "completed", "2026-01-31T11:59:30.000Z")  # not a sync order
    outcomes = figures.sync_outcomes(settings, last)
    assert (outcomes.completed, outcomes.declined) == (2, 1)
    assert outcomes.first_ts == first  # the span starts with the first sync order placed


def test_a_sync_figure_that_was_not_measured_prints_na(figures):
    line = figures.sync_line(
        {
            "completed": None,
            "measured_span_s": None,
            "users": 20,
            "per_minute": None,
            "declined": None,
            "avg_wait_s": None,
        }
    )
    assert "n/a orders completed in n/a" in line and " 0 " not in line
