"""Test support for code that traces: a recorder's emitter that keeps what it would send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_xray_sdk import global_sdk_config


class CapturingEmitter:
    """Stands in for the UDP emitter: each entity it would send, as its JSON document."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_entity(self, entity: Any) -> None:
        self.sent.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address: str) -> None:
        pass


@contextmanager
def sdk_enabled() -> Iterator[None]:
    """The X-Ray SDK switched on for the block (Powertools switches it off process-wide
    outside Lambda when a payment_fn test ran first in the same process)."""
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)
    try:
        yield
    finally:
        global_sdk_config.set_sdk_enabled(was_enabled)


@contextmanager
def private_recorder(monkeypatch: Any) -> Iterator[Any]:
    """A recorder of its own behind `flashsale.tracing` (pytest's `monkeypatch` undoes the
    swap): tracing on, every request sampled, documents kept by a CapturingEmitter."""
    from aws_xray_sdk.core import AWSXRayRecorder

    from flashsale import tracing

    with sdk_enabled():
        own = AWSXRayRecorder()
        own.configure(sampling=False, context_missing="IGNORE_ERROR", emitter=CapturingEmitter())
        monkeypatch.setattr(tracing, "_recorder", lambda: own)
        monkeypatch.setattr(tracing, "_enabled", True)
        yield own


def flatten(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every document sent, with embedded subsegments pulled out and given their parent and
    trace ids."""
    out: list[dict[str, Any]] = []

    def walk(doc: dict[str, Any], parent: str | None = None, trace: str | None = None) -> None:
        doc = {
            **doc,
            "parent_id": doc.get("parent_id", parent),
            "trace_id": doc.get("trace_id", trace),
        }
        out.append(doc)
        for sub in doc.get("subsegments", []):
            walk(sub, doc["id"], doc["trace_id"])

    for doc in sent:
        walk(doc)
    return out
