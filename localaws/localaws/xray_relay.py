"""A stand-in for the X-Ray daemon: segments in over UDP, forwarded in batches to the X-Ray API.

The X-Ray SDKs send each (sub)segment as a UDP datagram `{"format":"json","version":1}\\n<document>`
to AWS_XRAY_DAEMON_ADDRESS. The real daemon batches them into PutTraceSegments calls; so does this
relay, towards whatever X-Ray endpoint boto3 is configured for (moto locally). On the same TCP
port it answers the SDKs' sampling requests (GetSamplingRules, SamplingTargets) with one local rule
(XRAY_SAMPLING_RATE, default: trace every request) and `GET /health`.

Run: python -m localaws.xray_relay [--port 2000] [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOG = logging.getLogger("xray-relay")
HEADER = b'{"format":"json","version":1}'
MAX_BATCH = 50
MAX_BUFFERED = 10_000


def parse_datagram(data: bytes) -> str | None:
    """The segment document of one daemon datagram, or None when it is not one."""
    header, sep, body = data.partition(b"\n")
    if not sep:
        return None
    try:
        meta = json.loads(header)
        if meta.get("format") != "json":
            return None
        document = body.decode("utf-8").strip()
        json.loads(document)
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    return document or None


class SegmentForwarder:
    """Buffers documents and sends them in batches; keeps them (bounded) while the API is down."""

    def __init__(
        self,
        send: Callable[[list[str]], Sequence[str]],
        flush_interval: float = 0.5,
    ) -> None:
        self._send = send  # returns the documents the API rejected (UnprocessedTraceSegments)
        self._queue: queue.Queue[str] = queue.Queue(maxsize=MAX_BUFFERED)
        self._flush_interval = flush_interval
        self._stopped = threading.Event()
        self.forwarded = 0
        self.dropped = 0
        self.rejected = 0

    def offer(self, document: str) -> None:
        try:
            self._queue.put_nowait(document)
        except queue.Full:
            self.dropped += 1

    def _take_batch(self, wait: float) -> list[str]:
        batch: list[str] = []
        deadline = time.monotonic() + wait
        while len(batch) < MAX_BATCH:
            remaining = deadline - time.monotonic()
            try:
                batch.append(
                    self._queue.get(timeout=max(remaining, 0.001))
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def flush_once(self, wait: float = 0.0) -> int:
        batch = self._take_batch(wait)
        if not batch:
            return 0
        backoff = 0.5
        while True:
            try:
                rejected = self._send(batch)
            except Exception as exc:  # the API is down or refused: keep the batch and retry
                LOG.warning("forwarding %d segments failed: %s", len(batch), exc)
                if self._stopped.wait(backoff):
                    return 0
                backoff = min(backoff * 2, 10.0)
                continue
            self.rejected += len(rejected)
            self.forwarded += len(batch) - len(rejected)
            return len(batch)

    def run(self) -> None:
        while not self._stopped.is_set():
            self.flush_once(wait=self._flush_interval)
        while self.flush_once():  # drain what is left before exiting
            pass

    def stop(self) -> None:
        self._stopped.set()


def xray_sender() -> Callable[[list[str]], Sequence[str]]:
    import boto3  # imported here so the parsing pieces stay dependency-free

    client = boto3.client("xray")

    def send(documents: list[str]) -> Sequence[str]:
        response = client.put_trace_segments(TraceSegmentDocuments=documents)
        return [item.get("Id", "") for item in response.get("UnprocessedTraceSegments", [])]

    return send


def sampling_rule(rate: float) -> dict[str, Any]:
    return {
        "RuleName": "Default",
        "RuleARN": "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default",
        "ResourceARN": "*",
        "Priority": 10000,
        "FixedRate": rate,
        "ReservoirSize": 0,
        "ServiceName": "*",
        "ServiceType": "*",
        "Host": "*",
        "HTTPMethod": "*",
        "URLPath": "*",
        "Version": 1,
        "Attributes": {},
    }


def make_http_handler(rate: float, forwarder: SegmentForwarder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") in ("", "/health"):
                stats = {
                    "forwarded": forwarder.forwarded,
                    "dropped": forwarder.dropped,
                    "rejected": forwarder.rejected,
                }
                self._reply(200, {"status": "ok", **stats})
            else:
                self._reply(404, {"message": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            now = time.time()
            if self.path == "/GetSamplingRules":
                record = {"SamplingRule": sampling_rule(rate), "CreatedAt": now, "ModifiedAt": now}
                self._reply(200, {"SamplingRuleRecords": [record]})
            elif self.path == "/SamplingTargets":
                docs = [
                    {
                        "RuleName": doc.get("RuleName", "Default"),
                        "FixedRate": rate,
                        "ReservoirQuota": 0,
                        "ReservoirQuotaTTL": now + 60,
                        "Interval": 10,
                    }
                    for doc in request.get("SamplingStatisticsDocuments", [])
                ]
                self._reply(
                    200,
                    {
                        "SamplingTargetDocuments": docs,
                        "LastRuleModification": 0,
                        "UnprocessedStatistics": [],
                    },
                )
            else:
                self._reply(404, {"message": f"unknown operation {self.path}"})

        def log_message(self, format: str, *args: Any) -> None:
            LOG.debug(format, *args)

    return Handler


def serve(host: str, port: int, rate: float) -> None:
    forwarder = SegmentForwarder(xray_sender())
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((host, port))
    udp.settimeout(0.5)
    http = ThreadingHTTPServer((host, port), make_http_handler(rate, forwarder))
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    threads = [
        threading.Thread(target=forwarder.run, name="forwarder"),
        threading.Thread(target=http.serve_forever, name="http", daemon=True),
    ]
    for thread in threads:
        thread.start()
    LOG.info("listening on udp+tcp %s:%d, forwarding to the X-Ray API", host, port)
    while not stopping.is_set():
        try:
            data = udp.recv(65535)
        except TimeoutError:
            continue
        except OSError:
            break
        document = parse_datagram(data)
        if document is None:
            LOG.warning("ignored a datagram that is not a segment: %r", data[:80])
        else:
            forwarder.offer(document)
    http.shutdown()
    forwarder.stop()
    threads[0].join(timeout=10)
    LOG.info(
        "stopped: forwarded %d, rejected %d, dropped %d",
        forwarder.forwarded,
        forwarder.rejected,
        forwarder.dropped,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("XRAY_DAEMON_PORT", 2000)))
    parser.add_argument(
        "--sampling-rate", type=float, default=float(os.environ.get("XRAY_SAMPLING_RATE", "1.0"))
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    serve(args.host, args.port, args.sampling_rate)


if __name__ == "__main__":
    main()
