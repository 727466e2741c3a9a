"""Child processes the load tools start: bounded in time, stopped by their own PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def start(argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None):
    """Start `argv` in its own process group, output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )


def stop(process: subprocess.Popen, grace: float = 10.0) -> int | None:
    """SIGTERM the process group this module started, SIGKILL it after `grace` seconds."""
    if process.poll() is not None:
        return process.returncode
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            return process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return process.poll()


def run_bounded(
    argv: Sequence[str],
    log_path: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> int | None:
    """Run to completion, or stop it after `timeout` seconds. Returns the exit code."""
    process = start(argv, log_path, env)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return stop(process)
    finally:
        if process.poll() is None:
            stop(process)
