"""What the toolkit reads from the stack, over plain rows and files (no platform)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from flashsale.domain.model import OrderItem, Route
from flashsale.events import OrderPlaced, encode
from flashsale_kit.logs import ProcessorLog, handled, json_line, per_order
from flashsale_kit.tables import OrderRow, _ids, _order_id, order_row


def test_dynamodb_items_become_rows_with_merged_quantities():
    item = {
        "order_id": {"S": "o1"},
        "status": {"S": "failed"},
        "stock_released": {"BOOL": True},
        "items": {
            "L": [
                {"M": {"product_id": {"N": "5"}, "quantity": {"N": "2"}}},
                {"M": {"product_id": {"N": "5"}, "quantity": {"N": "1"}}},
            ]
        },
    }
    assert order_row(item) == OrderRow("o1", "failed", True, {5: 3}, None, "")


def test_order_ids_are_read_from_events_and_from_envelopes_with_bad_fields():
    event = OrderPlaced("o-1", 7, (OrderItem(1, 1, Decimal("2")),), 2, Route.ECS)
    assert _order_id(encode(event)[0]) == "o-1"
    broken = json.loads(encode(event)[0])
    broken["data"]["items"] = "nonsense"
    assert _order_id(json.dumps(broken)) == "o-1"
    assert _order_id("not json") is None
    assert _order_id(json.dumps({"chaos": "poison"})) is None


def test_processor_log_entries_after_a_mark(tmp_path):
    path = tmp_path / "processor.log"
    path.write_text('--- start\n{"msg": "processor started"}\n')
    log = ProcessorLog(path)
    mark = log.mark()
    with path.open("a") as out:
        out.write(json.dumps({"msg": "order processed", "order_id": "a"}) + "\n")
        out.write("not json\n")
        out.write(json.dumps({"msg": "order processed", "order_id": "b"}) + "\n")
    assert [e["order_id"] for e in log.entries(mark, "order processed")] == ["a", "b"]
    assert len(log.entries(0)) == 3
    assert ProcessorLog(tmp_path / "missing.log").entries(0) == []


def test_entries_grouped_per_wanted_order():
    entries = [{"order_id": "a"}, {"order_id": "b"}, {"order_id": "a"}, {"msg": "x"}]
    grouped = per_order(entries, ["a"])
    assert list(grouped) == ["a"] and len(grouped["a"]) == 2


def test_json_line_ignores_what_is_not_an_object():
    assert json_line('{"a": 1}') == {"a": 1}
    assert json_line("[1]") is None and json_line("{broken") is None and json_line("") is None


def test_handled_counts_one_orders_processed_lines_after_the_mark(tmp_path):
    path = tmp_path / "processor.log"
    log = ProcessorLog(path)
    path.write_text(json.dumps({"msg": "order processed", "order_id": "a"}) + "\n")
    mark = log.mark()
    with path.open("a") as out:
        for entry in ({"msg": "order processed", "order_id": "a"}, {"msg": "x", "order_id": "a"}):
            out.write(json.dumps(entry) + "\n")
    assert len(handled(log, "a", mark)) == 1 and len(handled(log, "a", 0)) == 2


def test_a_lone_order_id_is_refused_not_read_as_characters():
    with pytest.raises(TypeError, match="one id"):
        _ids("order-1")
    assert _ids(["b", "a", "b"]) == ["b", "a"]
