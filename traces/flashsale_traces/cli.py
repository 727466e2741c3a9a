"""`make traces`: list recent traces, or show one (by order id or trace id) as a timeline.

python -m flashsale_traces                       # recent traces, newest first
python -m flashsale_traces --route lambda --min-duration 1 --since 30m
python -m flashsale_traces --order <order_id>    # that order's trace, as a timeline
python -m flashsale_traces --trace <trace_id> --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence

import boto3

from flashsale_traces import query, render

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> dt.timedelta:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 15m, 2h)")
    return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flashsale-traces", description=__doc__.splitlines()[0])
    p.add_argument("--order", help="show the trace of this order id")
    p.add_argument("--trace", help="show this trace id")
    p.add_argument("--route", choices=["sync", "ecs", "lambda"], help="only this route")
    p.add_argument("--min-duration", type=float, help="only traces at least this long (seconds)")
    p.add_argument("--since", type=duration, default=duration("1h"), help="window (default 1h)")
    p.add_argument("--limit", type=int, default=20, help="at most this many traces (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def main(argv: Sequence[str] | None = None, xray: object | None = None) -> int:
    args = parser().parse_args(argv)
    client = xray or boto3.client("xray")
    where = query.TraceFilter(
        order_id=args.order, route=args.route, min_duration=args.min_duration, trace_id=args.trace
    )
    single = bool(args.order or args.trace)
    traces = query.find(client, args.since, where, limit=1 if single else args.limit)
    if single and not traces:
        print(
            f"no trace found for {args.order or args.trace} in the last {args.since}",
            file=sys.stderr,
        )
        return 1
    if args.json:
        payload = [render.as_json(t) for t in traces]
        print(json.dumps(payload[0] if single else payload, indent=2, default=str))
    elif single:
        print(render.timeline(traces[0]))
    else:
        print(render.table(traces))
    return 0
