"""Requests gunicorn refuses before the app sees them, answered in the API's JSON error shape.

A control character in a header, a malformed request line or oversized headers are refused by
gunicorn's parser with an HTML page; `install()` makes that page the API's
`{"error": {"code", "message"}}` instead, so every 4xx a client can get has one shape.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, speaking JSON."""
    code = reason.lower().replace(" ", "_")
    body = json.dumps({"error": {"code": code, "message": mesg or reason}}) + "\n"
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body.encode())}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin1", "replace"))


def install() -> None:
    """Replace gunicorn's HTML error writer (its workers look it up on the module each time)."""
    util.write_error = write_json_error
