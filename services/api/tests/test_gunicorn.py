"""gunicorn runs the app from orders_api.gunicorn_conf: 127.0.0.1, gthread, access log, stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _wait_until_up(url: str, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited early"
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer at {url}")


def test_gunicorn_serves_the_app_from_the_config(tmp_path):
    port = _free_port()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "API_PORT": str(port),
        "API_WORKERS": "1",
        "API_THREADS": "2",
        "API_ACCESS_LOG": str(access_log),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "python:orders_api.gunicorn_conf"]
    process = subprocess.Popen(
        [*command, "--chdir", str(HERE), "fake_wsgi:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/health", process, time.monotonic() + 30)

        assert _get(f"{base}/health") == (200, {"status": "healthy"})
        status, body = _get(f"{base}/missing")
        assert status == 404 and body["error"]["code"] == "not_found"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)

    assert process.returncode == 0, stderr
    assert f"Listening at: http://127.0.0.1:{port}" in stderr
    assert "Using worker: gthread" in stderr
    assert '"GET /health HTTP/1.1" 200' in access_log.read_text()
