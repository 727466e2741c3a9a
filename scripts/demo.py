"""`make demo`: one order per phase (sync, async via the ECS processor, async via the payment
Lambda) against the running API, each order's status transitions as they happen, then a summary.

Times are relative to the moment the order was sent; a transition's time is the order's own
timestamp for it (created_at, processing_at, completed_at), so polling does not blur it. The
whole run is bounded (--timeout, 60 s); the exit code is 0 only if every order completed.

    python scripts/demo.py [--api-url URL] [--timeout 60] [--product-id 1] [--customer-id 123]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from flashsale.domain.model import parse_utc
from flashsale_kit.api import Api, answers

TIMESTAMP_FIELDS = {
    "pending": "created_at",
    "processing": "processing_at",
    "completed": "completed_at",
    "failed": "failed_at",
}
TERMINAL = {"completed", "failed"}
POLL_INTERVAL_S = 0.05


@dataclass(frozen=True)
class Phase:
    name: str
    path: str
    route: str | None  # X-Processing-Route for async orders


PHASES = (
    Phase("sync", "/orders/sync", None),
    Phase("async ecs", "/orders/async", "ecs"),
    Phase("async lambda", "/orders/async", "lambda"),
)


@dataclass
class Result:
    phase: Phase
    http_status: int | None = None
    answer_s: float | None = None
    order_id: str | None = None
    status: str | None = None
    done_s: float | None = None  # time to completed (or failed)
    error: str | None = None
    failure_reason: str | None = None
    seen: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed" and self.error is None


def _epoch(value: str | None) -> float | None:
    return parse_utc(value).timestamp() if value else None


class Timeline:
    """Each status of one order once, at its timestamp relative to the request."""

    def __init__(self, result: Result, sent_at: float):
        self.result = result
        self.sent_at = sent_at

    def new_events(self, order: dict[str, Any], observed_at: float) -> list[tuple[float, str]]:
        status = order.get("status")
        events = []
        # an order can pass a status between two polls: report every status it has a time for
        for name, ts_field in TIMESTAMP_FIELDS.items():
            if name in self.result.seen or (order.get(ts_field) is None and name != status):
                continue
            at = (_epoch(order.get(ts_field)) or observed_at) - self.sent_at
            self.result.seen.append(name)
            events.append((at, name))
            if name in TERMINAL:
                self.result.done_s = at
        self.result.status = status
        self.result.failure_reason = order.get("failure_reason")
        return events


def show(events: list[tuple[float, str]]) -> None:
    # on a tie, the order's own status first: it happened before the API answered
    for at, label in sorted(events, key=lambda e: (round(e[0], 2), e[1].startswith("answered"))):
        print(f"  +{at:6.2f} s  {label}", flush=True)


def run_phase(api: Api, phase: Phase, body: dict, deadline: float) -> Result:
    result = Result(phase)
    print(f"\n{phase.name}: POST {phase.path}" + (f" (route {phase.route})" if phase.route else ""))
    sent_at = time.time()
    answer = api.place(phase.route or "sync", body, timeout=max(1.0, deadline - time.monotonic()))
    if answer.status_code is None:
        result.error = f"request failed: {answer.error}"
        print(f"  {result.error}")
        return result
    result.answer_s, result.http_status = answer.seconds, answer.status_code
    result.order_id = answer.order_id
    answered = (result.answer_s, f"answered HTTP {answer.status_code}")
    if result.order_id is None:
        show([answered])
        result.error = f"no order in the answer: {str(answer.body)[:200]}"
        print(f"  {result.error}")
        return result

    timeline = Timeline(result, sent_at)
    order = answer.body.get("order") or answer.body  # sync answers carry the order itself
    show([*timeline.new_events(order, time.time()), answered])
    while result.status not in TERMINAL:
        if time.monotonic() >= deadline:
            result.error = f"timed out, last status {result.status}"
            print(f"  {result.error}")
            return result
        time.sleep(POLL_INTERVAL_S)
        polled = api.find(result.order_id, timeout=5)  # the deadline bounds the retries
        if polled is not None:
            show(timeline.new_events(polled, time.time()))
    if result.status == "failed":
        result.error = f"order failed ({result.failure_reason or 'no reason given'})"
    return result


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def summary(results: list[Result]) -> str:
    rows = [("route", "HTTP", "answer", "completed", "order")]
    for r in results:
        done = _seconds(r.done_s) if r.status == "completed" else (r.status or "-")
        http = "-" if r.http_status is None else str(r.http_status)
        rows.append((r.phase.name, http, _seconds(r.answer_s), done, r.order_id or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-url", default=os.environ.get("API_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--timeout", type=float, default=60.0, help="for the whole run (s)")
    parser.add_argument("--product-id", type=int, default=1)
    parser.add_argument("--customer-id", type=int, default=123)
    args = parser.parse_args(argv)
    api_url = args.api_url.rstrip("/")
    deadline = time.monotonic() + args.timeout
    item = {"product_id": args.product_id, "quantity": 1}
    body = {"customer_id": args.customer_id, "items": [item]}

    if not answers(api_url, "/health", 5):
        print(f"the API at {api_url} does not answer: start it with `make up`")
        return 2
    api = Api(api_url, pool=2)
    try:
        print(f"one order per phase against {api_url} (times relative to sending the order)")
        results = [run_phase(api, phase, body, deadline) for phase in PHASES]
    finally:
        api.close()

    print("\n" + summary(results))
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"FAILED {r.phase.name}: {r.error or r.status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
