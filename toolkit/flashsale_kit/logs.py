"""The consumers' JSON logs: the processor's log file and the payment Lambda's log group."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PROCESSED = "order processed"
RETRIED = "payment will be retried"
REPUBLISHED = "order re-published"
STOPPED = "processor stopped"


def json_line(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


class ProcessorLog:
    """The processor's JSON lines (`msg` key); positions are byte offsets into the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def entries(self, since: int, msg: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        found = [entry for entry in map(json_line, lines) if entry]
        return [e for e in found if msg is None or e.get("msg") == msg]


def per_order(entries: Iterable[dict[str, Any]], wanted: Iterable[str]) -> dict[str, list[dict]]:
    """Entries grouped by order_id, for the orders in `wanted` only."""
    ids = set(wanted)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        if entry.get("order_id") in ids:
            grouped[entry["order_id"]].append(entry)
    return grouped


class LambdaLog:
    """The payment Lambda's log group (Powertools JSON: `message` key)."""

    def __init__(self, logs_client: Any, function_name: str) -> None:
        self.logs = logs_client
        self.group = f"/aws/lambda/{function_name}"

    @staticmethod
    def mark() -> int:
        return int(time.time() * 1000) - 1000  # a second of slack for clock granularity

    def entries(self, since: int, message: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"logGroupName": self.group, "startTime": since}
        while True:
            try:
                page = self.logs.filter_log_events(**kwargs)
            except self.logs.exceptions.ResourceNotFoundException:
                return found
            for event in page.get("events", []):
                entry = json_line(event["message"])
                if entry and (message is None or entry.get("message") == message):
                    found.append(entry)
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                return found
            kwargs["nextToken"] = token


def handled(log: ProcessorLog | LambdaLog, order_id: str, since: int) -> list[dict[str, Any]]:
    """The `order processed` entries of one order written since the mark `since`."""
    return [e for e in log.entries(since, PROCESSED) if e.get("order_id") == order_id]
