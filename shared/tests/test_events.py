import json
from decimal import Decimal

import pytest

from flashsale.domain.model import Order, OrderItem, Route
from flashsale.events import InvalidEvent, OrderPlaced, decode, encode


def make_event(route=Route.ECS) -> OrderPlaced:
    order = Order.new(9, [OrderItem(1, 3, Decimal("0.10"))], route)
    return OrderPlaced.from_order(order)


def test_round_trip_keeps_exact_money():
    event = make_event()
    body, _ = encode(event)
    assert decode(body) == event
    assert decode(body).total == Decimal("0.30")


def test_attributes_carry_route_and_type():
    _, attributes = encode(make_event(Route.LAMBDA))
    assert attributes == {
        "route": {"DataType": "String", "StringValue": "lambda"},
        "event_type": {"DataType": "String", "StringValue": "OrderPlaced"},
    }


def test_envelope_is_versioned():
    body, _ = encode(make_event())
    envelope = json.loads(body)
    assert envelope["version"] == 1
    assert envelope["event_type"] == "OrderPlaced"
    assert envelope["data"]["total"] == "0.30"


def _tamper(**changes):
    envelope = json.loads(encode(make_event())[0])
    for path, value in changes.items():
        target = envelope
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return json.dumps(envelope)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        _tamper(version=2),
        _tamper(event_type="OrderShipped"),
        _tamper(data__order_id=5),
        _tamper(data__customer_id="9"),
        _tamper(data__items=[]),
        _tamper(data__items=[{"product_id": 1, "quantity": True, "unit_price": "1"}]),
        _tamper(data__items=[{"product_id": 1, "quantity": 0, "unit_price": "1"}]),
        _tamper(data__total="abc"),
        _tamper(data__total="NaN"),
        _tamper(data__route="carrier-pigeon"),
    ],
)
def test_decode_rejects_poison(body):
    with pytest.raises(InvalidEvent):
        decode(body)
