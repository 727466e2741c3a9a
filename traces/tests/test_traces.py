import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from flashsale_traces import cli, query, render
from flashsale_traces.model import Trace

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "trace_async_ecs.json").read_text())
ORDER = "5b0c7a3e-1f2d-4c5b-9a8e-7d6c5b4a3f21"


def recorded_trace() -> Trace:
    return Trace.from_api(RECORDED["Traces"][0])


class FakeXRay:
    """Pages like the X-Ray API: summaries in pages of one, traces five ids at a time."""

    def __init__(self, traces: list[dict]) -> None:
        self.traces = {t["Id"]: t for t in traces}

    def get_trace_summaries(self, StartTime, EndTime, NextToken=None):
        ids = sorted(self.traces)
        index = int(NextToken or 0)
        page = {"TraceSummaries": [{"Id": ids[index]}]} if index < len(ids) else {}
        if index + 1 < len(ids):
            page["NextToken"] = str(index + 1)
        return page

    def batch_get_traces(self, TraceIds):
        assert len(TraceIds) <= query.BATCH
        return {"Traces": [self.traces[i] for i in TraceIds if i in self.traces]}


def another_trace(trace_id: str, order: str, route: str) -> dict:
    other = copy.deepcopy(RECORDED["Traces"][0])
    other["Id"] = trace_id
    for segment in other["Segments"]:
        doc = json.loads(segment["Document"])
        doc["trace_id"] = trace_id
        if "annotations" in doc:
            doc["annotations"].update(order_id=order, route=route)
        segment["Document"] = json.dumps(doc)
    return other


def test_documents_become_one_tree_in_causal_order():
    trace = recorded_trace()
    assert [(depth, span.name) for depth, span in trace.walk()] == [
        (0, "orders-api"),
        (1, "DynamoDB"),
        (1, "SNS"),
        (2, "order-processor"),
        (3, "payment"),
        (3, "DynamoDB"),
    ]
    assert trace.annotation("order_id") == ORDER
    assert trace.http_status == 202
    assert trace.has_fault
    assert trace.duration == pytest.approx(3.11)
    assert trace.slowest().name == "payment"


def test_timeline_fits_80_columns_and_marks_the_slowest_span_and_the_fault():
    text = render.timeline(recorded_trace())
    assert all(len(line) <= render.WIDTH for line in text.splitlines())
    payment = next(line for line in text.splitlines() if "payment" in line)
    assert "<slowest" in payment and "3,010 ms" in payment
    assert "!FAULT" in text
    assert "cause: ConditionalCheckFailedException" in text
    assert "orders-api 202" in text


def test_table_lists_one_line_per_trace_within_80_columns():
    text = render.table([recorded_trace()])
    lines = text.splitlines()
    assert len(lines) == 3 and all(len(line) <= render.WIDTH for line in lines)
    assert "202" in lines[1] and "ecs" in lines[1] and ORDER in lines[1] and "F-" in lines[1]


def test_find_filters_by_order_route_and_duration_across_pages():
    traces = [
        RECORDED["Traces"][0],
        another_trace("1-6b06a981-000000000000000000000001", "order-2", "lambda"),
        another_trace("1-6b06a982-000000000000000000000002", "order-3", "lambda"),
    ]
    xray = FakeXRay(traces)
    since = dt.timedelta(hours=1)
    every = query.find(xray, since, query.TraceFilter())
    assert sorted(t.annotation("order_id") for t in every) == sorted([ORDER, "order-2", "order-3"])
    by_route = query.find(xray, since, query.TraceFilter(route="lambda"))
    assert sorted(t.annotation("order_id") for t in by_route) == ["order-2", "order-3"]
    assert query.find(xray, since, query.TraceFilter(order_id="order-3"))[0].id.endswith("02")
    assert query.find(xray, since, query.TraceFilter(min_duration=5)) == []
    assert len(query.find(xray, since, query.TraceFilter(), limit=2)) == 2


def test_cli_shows_an_order_as_a_timeline_or_json(capsys):
    xray = FakeXRay(RECORDED["Traces"])
    assert cli.main(["--order", ORDER], xray=xray) == 0
    assert "order-processor" in capsys.readouterr().out
    assert cli.main(["--order", ORDER, "--json"], xray=xray) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["order_id"] == ORDER and payload["spans"][0]["name"] == "orders-api"
    assert cli.main(["--order", "unknown"], xray=xray) == 1
    assert "no trace found" in capsys.readouterr().err


def test_durations_parse_with_units():
    assert cli.duration("90") == dt.timedelta(seconds=90)
    assert cli.duration("15m") == dt.timedelta(minutes=15)
    with pytest.raises(Exception, match="not a duration"):
        cli.duration("soon")


def test_the_slowest_span_is_the_one_with_most_time_of_its_own():
    t0 = 1795600000.0
    gateway = {
        "id": "c000000000000002",
        "name": "payment-gateway",
        "start_time": t0,
        "end_time": t0 + 3.0,
        "subsegments": [
            {
                "id": "c000000000000003",
                "name": "dynamodb",
                "start_time": t0 + 2.9,
                "end_time": t0 + 2.95,
            }
        ],
    }
    root = {
        "trace_id": "1-x",
        "id": "c000000000000001",
        "name": "fn",
        "start_time": t0,
        "end_time": t0 + 3.1,
        "subsegments": [gateway],
    }
    assert Trace.from_documents("1-x", [root]).slowest().name == "payment-gateway"
