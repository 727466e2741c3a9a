"""Text and JSON views of traces, readable in an 80-column terminal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flashsale_traces.model import Span, Trace

WIDTH = 80
BAR = 16


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _flags(trace: Trace) -> str:
    return ("F" if trace.has_fault else "-") + ("E" if trace.has_error else "-")


def table(traces: list[Trace]) -> str:
    header = f"{'TIME':<8} {'DURATION':>9} {'HTTP':>4} {'ROUTE':<6} {'FE':<2} ORDER"
    lines = [header]
    for trace in traces:
        when = dt.datetime.fromtimestamp(trace.start, dt.UTC).strftime("%H:%M:%S")
        status = str(trace.http_status or "-")
        route = str(trace.annotation("route") or "-")[:6]
        order = str(trace.annotation("order_id") or trace.id)
        took = _ms(trace.duration)
        line = f"{when:<8} {took:>9} {status:>4} {route:<6} {_flags(trace):<2} {order}"
        lines.append(line[:WIDTH])
    if not traces:
        lines.append("(no traces match)")
    lines.append("F = fault (5xx / exception), E = error or throttle (4xx)")
    return "\n".join(lines)


def _bar(span: Span, trace: Trace) -> str:
    total = trace.duration or 1.0
    first = int((span.start - trace.start) / total * BAR)
    length = max(1, round(span.duration / total * BAR))
    first = min(first, BAR - 1)
    return ("." * first + "#" * min(length, BAR - first)).ljust(BAR, ".")


def _label(span: Span) -> str:
    label = span.name
    if span.http_status is not None:
        label += f" {span.http_status}"
    return label


def timeline(trace: Trace) -> str:
    slowest = trace.slowest()
    order = trace.annotation("order_id")
    route = trace.annotation("route")
    head = f"trace {trace.id}  {_ms(trace.duration)}"
    lines = [head, f"order {order or '-'}  route {route or '-'}  spans {len(trace.spans)}"]
    lines.append(f"{'OFFSET':>9} {'DURATION':>9}  {'TIMELINE':<{BAR}}  SPAN")
    for depth, span in trace.walk():
        marks = ""
        if span.fault or span.error or span.throttle:
            marks += " !FAULT" if span.fault else " !ERROR"
        if slowest is not None and span is slowest:
            marks += " <slowest"
        offset = _ms(span.start - trace.start)
        name_room = WIDTH - (9 + 1 + 9 + 2 + BAR + 2) - len(marks)
        name = ("  " * depth + _label(span))[: max(name_room, 8)]
        duration = _ms(span.duration) if span.end is not None else "running"
        lines.append(f"{offset:>9} {duration:>9}  {_bar(span, trace)}  {name}{marks}")
        if span.cause:
            lines.append(f"{'':>21}{'  ' * depth}  cause: {span.cause}"[:WIDTH])
    return "\n".join(lines)


def as_json(trace: Trace) -> dict[str, Any]:
    return {
        "trace_id": trace.id,
        "start": trace.start,
        "duration": trace.duration,
        "http_status": trace.http_status,
        "order_id": trace.annotation("order_id"),
        "route": trace.annotation("route"),
        "fault": trace.has_fault,
        "error": trace.has_error,
        "spans": [
            {
                "id": span.id,
                "parent_id": span.parent_id,
                "depth": depth,
                "name": span.name,
                "origin": span.origin,
                "offset": span.start - trace.start,
                "duration": span.duration,
                "http_status": span.http_status,
                "fault": span.fault,
                "error": span.error,
                "annotations": span.annotations,
                "cause": span.cause,
            }
            for depth, span in trace.walk()
        ],
    }
