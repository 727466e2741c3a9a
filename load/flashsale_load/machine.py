"""What a report states about where it ran: the machine, and the settings the stack really uses.

The stack's settings are read from the running processes (`/proc/<pid>/environ` of the PID files
`make up` writes), not from this process's environment, which may differ from theirs.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from localaws.processes import PidFiles

#: the variables that change what a load run measures
SETTING_KEYS: tuple[str, ...] = (
    "PAYMENT_LATENCY_SECONDS",
    "PAYMENT_CONCURRENCY",
    "PROCESSOR_CONCURRENCY",
    "PAYMENT_DECLINE_RATE",
    "PAYMENT_ERROR_RATE",
    "API_WORKERS",
    "API_THREADS",
    "DEFAULT_ROUTE",
    "AWS_XRAY_SDK_ENABLED",
)


def _proc_line(path: str, prefix: str) -> str | None:
    """The first line of /proc file `path` starting with `prefix`, after the `:`."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(prefix)), None)


def memory_mib() -> int | None:
    total = _proc_line("/proc/meminfo", "MemTotal:")
    return int(total.split()[0]) // 1024 if total else None


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def machine_info() -> dict[str, Any]:
    return {
        "nproc": cpu_count(),
        "memory_mib": memory_mib(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _proc_line("/proc/cpuinfo", "model name"),
    }


def pid_records(run_dir: Path) -> dict[str, int]:
    """name -> pid of every process `make up` recorded in `run_dir` (readable PID files)."""
    files = PidFiles(run_dir)
    records = (files.read(name) for name in files.names())
    return {record.name: record.pid for record in records if record is not None}


def process_environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def component_env(run_dir: Path, name: str, keys: Iterable[str] | None = None) -> dict[str, str]:
    """The environment the stack's `name` process runs with (only `keys`, when given); {} when
    it is not running."""
    pid = pid_records(run_dir).get(name)
    environ = process_environ(pid) if pid else {}
    return environ if keys is None else {key: environ[key] for key in keys if key in environ}


def stack_settings(run_dir: Path, keys: tuple[str, ...] = SETTING_KEYS) -> dict[str, dict]:
    """For each running process of the stack, the settings of `keys` it was started with."""
    settings: dict[str, dict] = {}
    for name, pid in pid_records(run_dir).items():
        environ = process_environ(pid)
        if environ:
            settings[name] = {key: environ[key] for key in keys if key in environ}
    return settings
