"""What gunicorn refuses before the app runs is answered in the API's JSON error shape."""

from __future__ import annotations

import json
import socket

from gunicorn import util

from orders_api import server_errors


def test_gunicorns_refusals_are_json() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        server_errors.write_json_error(ours, 400, "Bad Request", "Invalid HTTP Header: 'X-KEY'")
        ours.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := theirs.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Content-Type: application/json" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body) == {
        "error": {"code": "bad_request", "message": "Invalid HTTP Header: 'X-KEY'"}
    }


def test_the_gunicorn_config_installs_it(monkeypatch) -> None:
    monkeypatch.setattr(util, "write_error", util.write_error)
    import importlib

    import orders_api.gunicorn_conf as conf

    importlib.reload(conf)
    assert util.write_error is server_errors.write_json_error
