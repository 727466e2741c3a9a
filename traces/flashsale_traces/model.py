"""Trace documents (as returned by BatchGetTraces) turned into a tree of spans.

A segment document may embed subsegments (`subsegments`), and the SDKs also send subsegments as
documents of their own (`"type": "subsegment"` with `parent_id`). Both end up in one tree, with
offsets relative to the trace's first start.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Span:
    id: str
    name: str
    start: float
    end: float | None
    origin: str | None = None  # e.g. AWS::Lambda::Function, AWS::ECS::Container
    namespace: str | None = None  # "aws" / "remote" for downstream calls
    http_status: int | None = None
    fault: bool = False
    error: bool = False
    throttle: bool = False
    annotations: dict[str, Any] = field(default_factory=dict)
    cause: str | None = None
    parent_id: str | None = None
    is_segment: bool = False
    children: list[Span] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return max((self.end if self.end is not None else self.start) - self.start, 0.0)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Span]]:
        yield depth, self
        for child in sorted(self.children, key=lambda s: (s.start, s.name)):
            yield from child.walk(depth + 1)


def _cause(doc: dict[str, Any]) -> str | None:
    cause = doc.get("cause")
    if isinstance(cause, dict):
        for exc in cause.get("exceptions") or []:
            return f"{exc.get('type', 'Error')}: {exc.get('message', '')}".strip(": ")
    return None


def _span(doc: dict[str, Any], parent_id: str | None, is_segment: bool) -> Span:
    http = doc.get("http") or {}
    status = (http.get("response") or {}).get("status")
    return Span(
        id=doc["id"],
        name=doc.get("name", "?"),
        start=float(doc.get("start_time", 0.0)),
        end=float(doc["end_time"]) if doc.get("end_time") is not None else None,
        origin=doc.get("origin"),
        namespace=doc.get("namespace"),
        http_status=int(status) if status is not None else None,
        fault=bool(doc.get("fault")),
        error=bool(doc.get("error")),
        throttle=bool(doc.get("throttle")),
        annotations=dict(doc.get("annotations") or {}),
        cause=_cause(doc),
        parent_id=doc.get("parent_id", parent_id),
        is_segment=is_segment,
    )


def _flatten(doc: dict[str, Any], parent_id: str | None, is_segment: bool) -> Iterator[Span]:
    span = _span(doc, parent_id, is_segment)
    yield span
    for sub in doc.get("subsegments") or []:
        yield from _flatten(sub, span.id, is_segment=False)


@dataclass
class Trace:
    id: str
    roots: list[Span]
    spans: dict[str, Span]

    @classmethod
    def from_documents(cls, trace_id: str, documents: Iterable[str | dict[str, Any]]) -> Trace:
        spans: dict[str, Span] = {}
        for raw in documents:
            doc = json.loads(raw) if isinstance(raw, str) else raw
            top_is_segment = doc.get("type") != "subsegment"
            for span in _flatten(doc, doc.get("parent_id"), top_is_segment):
                known = spans.get(span.id)
                if known is None or (known.end is None and span.end is not None):
                    spans[span.id] = span
        for span in spans.values():
            span.children = []
        roots = []
        for span in spans.values():
            parent = spans.get(span.parent_id) if span.parent_id else None
            if parent is not None and parent is not span:
                parent.children.append(span)
            else:
                roots.append(span)
        roots.sort(key=lambda s: (s.start, s.name))
        return cls(trace_id, roots, spans)

    @classmethod
    def from_api(cls, trace: dict[str, Any]) -> Trace:
        return cls.from_documents(trace["Id"], [s["Document"] for s in trace.get("Segments", [])])

    # summary fields ------------------------------------------------------------------------
    @property
    def start(self) -> float:
        return min((s.start for s in self.spans.values()), default=0.0)

    @property
    def end(self) -> float:
        ends = [s.end for s in self.spans.values() if s.end is not None]
        return max(ends, default=self.start)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def annotation(self, key: str) -> Any:
        for _, span in self.walk():
            if key in span.annotations:
                return span.annotations[key]
        return None

    @property
    def http_status(self) -> int | None:
        statuses = [s.http_status for s in self.roots if s.http_status is not None]
        return statuses[0] if statuses else None

    @property
    def has_fault(self) -> bool:
        return any(s.fault for s in self.spans.values())

    @property
    def has_error(self) -> bool:
        return any(s.error or s.throttle for s in self.spans.values())

    def walk(self) -> Iterator[tuple[int, Span]]:
        for root in self.roots:
            yield from root.walk()

    def slowest(self) -> Span | None:
        """The span with the most time of its own (its duration less its children's)."""

        def own_time(span: Span) -> float:
            return span.duration - sum(child.duration for child in span.children)

        return max(self.spans.values(), key=own_time, default=None)

    def names(self) -> list[str]:
        return [span.name for _, span in self.walk()]
