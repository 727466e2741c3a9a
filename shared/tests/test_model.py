from datetime import timedelta
from decimal import Decimal

import pytest

from flashsale.domain.model import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    Order,
    OrderItem,
    OrderStatus,
    Route,
    can_transition,
    check_transition,
    parse_utc,
    utc_now,
)


def test_new_order_is_pending_with_total_and_timestamps():
    items = [OrderItem(1, 2, Decimal("19.99")), OrderItem(2, 1, Decimal("5.00"))]
    order = Order.new(7, items, "ecs")
    assert order.status is OrderStatus.PENDING
    assert order.route is Route.ECS
    assert order.total == Decimal("44.98")
    assert order.created_at == order.updated_at
    assert order.created_at.endswith("Z")
    assert len(order.order_id) == 36
    assert Order.new(7, items, Route.ECS).order_id != order.order_id


def test_new_order_needs_items():
    with pytest.raises(ValueError):
        Order.new(1, [], Route.SYNC)


def test_quantities_merge_repeated_products():
    order = Order.new(
        1,
        [OrderItem(1, 2, Decimal(1)), OrderItem(1, 3, Decimal(1)), OrderItem(2, 1, Decimal(1))],
        Route.SYNC,
    )
    assert order.quantities() == {1: 5, 2: 1}


@pytest.mark.parametrize(
    ("current", "to", "allowed"),
    [
        (OrderStatus.PENDING, OrderStatus.PROCESSING, True),
        (OrderStatus.PENDING, OrderStatus.FAILED, True),
        (OrderStatus.PENDING, OrderStatus.COMPLETED, False),
        (OrderStatus.PROCESSING, OrderStatus.PROCESSING, True),
        (OrderStatus.PROCESSING, OrderStatus.COMPLETED, True),
        (OrderStatus.PROCESSING, OrderStatus.PENDING, False),
        (OrderStatus.COMPLETED, OrderStatus.PROCESSING, False),
        (OrderStatus.FAILED, OrderStatus.COMPLETED, False),
    ],
)
def test_transitions(current, to, allowed):
    assert can_transition(current, to) is allowed


def test_terminal_states_have_no_way_out():
    assert not ALLOWED_TRANSITIONS[OrderStatus.COMPLETED]
    assert not ALLOWED_TRANSITIONS[OrderStatus.FAILED]


def test_check_transition_rejects_any_bad_source():
    check_transition({OrderStatus.PENDING, OrderStatus.PROCESSING}, OrderStatus.PROCESSING)
    with pytest.raises(InvalidTransition):
        check_transition({OrderStatus.PENDING, OrderStatus.COMPLETED}, OrderStatus.PROCESSING)
    with pytest.raises(InvalidTransition):
        check_transition(set(), OrderStatus.PROCESSING)


def test_a_timestamp_reads_back_as_the_instant_written():
    written = utc_now()
    parsed = parse_utc(written)
    assert parsed.utcoffset() == timedelta(0)
    assert parsed.isoformat(timespec="milliseconds").replace("+00:00", "Z") == written
    assert parse_utc("1970-01-01T00:00:01.500Z").timestamp() == 1.5
