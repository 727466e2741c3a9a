"""`make demo` (scripts/demo.py) against the running pipeline: every phase's order completes and
the run exits 0; a declined customer makes it exit 1; no API makes it exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from flashsale.settings import LOCAL_DECLINE_CUSTOMER_ID

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"
PHASES = ("sync", "async ecs", "async lambda")


def start_demo(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(DEMO), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=90)  # the demo bounds itself at 60 s
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, output


def summary_rows(output: str) -> dict[str, list[str]]:
    rows = output[output.index("\nroute ") :].strip().splitlines()[1:]
    """phase -> [HTTP status, answer time, "s", completed time, "s", order id]"""
    return {
        phase: row[len(phase) :].split()
        for row in rows
        for phase in PHASES
        if row.startswith(f"{phase} ")
    }


def test_demo_completes_every_phase_and_fails_on_a_decline(local_aws: dict[str, str]) -> None:
    ok = start_demo()
    declined = start_demo("--customer-id", str(LOCAL_DECLINE_CUSTOMER_ID))
    code, output = finish(ok)
    assert code == 0, output
    for phase in PHASES:
        section = output[output.index(f"\n{phase}: POST") :]
        assert "pending" in section and "processing" in section and "completed" in section
    rows = summary_rows(output)
    assert [rows[phase][0] for phase in PHASES] == ["200", "202", "202"], output
    assert all(rows[phase][2:5:2] == ["s", "s"] for phase in PHASES), rows

    code, output = finish(declined)
    assert code == 1, output
    assert all(f"FAILED {phase}: order failed (payment_declined)" in output for phase in PHASES)


def test_demo_without_an_api_exits_2() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, output = finish(start_demo("--api-url", f"http://127.0.0.1:{port}", "--timeout", "5"))
    assert code == 2, output
    assert "does not answer" in output
