from __future__ import annotations

import json
from dataclasses import replace

import pytest

from flashsale.domain.model import OrderStatus
from flashsale.settings import Settings
from order_processor.config import ProcessorConfig
from order_processor.handling import Action, Outcome, handle
from order_processor.queue import Message

from .conftest import World


def message(body: str, receive_count: int = 1) -> Message:
    return Message("m-1", "rh-1", body, receive_count)


def test_a_paid_order_is_deleted(world: World, config):
    world.held.gate.set()
    order, body = world.place()
    disposition = handle(message(body), world.deps, config.backoff)
    assert (disposition.action, disposition.outcome) == (Action.DELETE, Outcome.COMPLETED)
    assert disposition.order_id == order.order_id
    assert disposition.charged and not disposition.duplicate


def test_a_declined_payment_is_recorded_and_deleted(config):
    world = World()
    world.gateway.decline_rate = 1.0
    world.held.gate.set()
    order, body = world.place(quantity=3)
    disposition = handle(message(body), world.deps, config.backoff)
    assert (disposition.action, disposition.outcome) == (Action.DELETE, Outcome.FAILED)
    assert world.orders.get(order.order_id).status is OrderStatus.FAILED
    assert world.products.get(1).stock == 1000  # the reservation was released


def test_an_unknown_order_is_left_for_the_dlq_with_a_backoff(world: World, config):
    order, body = world.place()
    disposition = handle(
        message(body.replace(order.order_id, "missing"), 2), world.deps, config.backoff
    )
    assert (disposition.action, disposition.outcome) == (Action.RETRY, Outcome.POISON)
    assert disposition.visibility == config.backoff(2)


def test_an_event_whose_total_is_not_its_orders_is_poison_and_charges_nothing(world: World, config):
    world.held.gate.set()
    order, body = world.place()
    tampered = json.loads(body)
    tampered["data"]["total"] = str(order.total + 1)
    disposition = handle(message(json.dumps(tampered)), world.deps, config.backoff)
    assert (disposition.action, disposition.outcome) == (Action.RETRY, Outcome.POISON)
    assert "total" in disposition.detail
    assert world.orders.get(order.order_id).status is OrderStatus.PENDING
    assert world.ledger.charges(order.order_id) == []


def test_an_unexpected_error_is_retried(world: World, config):
    class Broken:
        def get(self, order_id):
            raise ConnectionError("dynamodb unreachable")

    _, body = world.place()
    disposition = handle(message(body), replace(world.deps, orders=Broken()), config.backoff)
    assert (disposition.action, disposition.outcome) == (Action.RETRY, Outcome.TRANSIENT)


@pytest.mark.parametrize("body", ["", "[]", '{"event_type": "Other", "version": 1}'])
def test_undecodable_bodies_are_poison(world: World, config, body: str):
    disposition = handle(message(body), world.deps, config.backoff)
    assert (disposition.action, disposition.outcome, disposition.visibility) == (
        Action.RETRY,
        Outcome.POISON,
        0,
    )


def test_backoff_doubles_per_receive_and_is_capped(config):
    config = replace(config, retry_backoff_base=2, retry_backoff_max=60)
    assert [config.backoff(n) for n in (1, 2, 3, 4, 5, 6, 7, 50)] == [2, 4, 8, 16, 32, 60, 60, 60]


def test_config_keeps_visibility_well_above_the_payment_time():
    settings = Settings.from_env({"ENV_NAME": "t", "PAYMENT_LATENCY_SECONDS": "8"})
    config = ProcessorConfig.from_settings(settings, concurrency=4, wait_time_seconds=None)
    assert config.visibility_timeout >= 80
    assert config.heartbeat_interval < config.visibility_timeout / 2
    assert (config.queue_name, config.dlq_name, config.concurrency) == (
        "t-order-queue",
        "t-order-dlq",
        4,
    )
    with pytest.raises(ValueError):
        ProcessorConfig.from_settings(settings, wait_time_seconds=21)
