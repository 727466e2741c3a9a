"""Start, identify and stop background processes by PID file.

A PID file records the PID and the process start time (from /proc), so a recycled PID is never
mistaken for ours. Processes run in their own session; stopping signals the whole group and any
descendant that left it (LocalStack's Lambda processes do), SIGTERM first, SIGKILL after a grace.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return raw[raw.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """Clock ticks since boot when `pid` started (field 22 of /proc/<pid>/stat)."""
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None


def is_zombie(pid: int) -> bool:
    fields = _proc_stat(pid)
    return fields is not None and fields[0] == "Z"


def children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _proc_stat(int(entry.name))):
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = children_map(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    started: int
    argv: list[str]

    def alive(self) -> bool:
        return start_time(self.pid) == self.started and not is_zombie(self.pid)


class PidFiles:
    """PID files of one state folder: `<run_dir>/<name>.pid` holding a JSON ProcessRecord."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def path(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def read(self, name: str) -> ProcessRecord | None:
        try:
            data = json.loads(self.path(name).read_text())
            return ProcessRecord(data["name"], int(data["pid"]), int(data["started"]), data["argv"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, record: ProcessRecord) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path(record.name).with_suffix(".tmp")
        tmp.write_text(json.dumps(record.__dict__))
        tmp.replace(self.path(record.name))

    def remove(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def running(self, name: str) -> ProcessRecord | None:
        record = self.read(name)
        return record if record and record.alive() else None

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.run_dir.glob("*.pid")) if self.run_dir.exists() else []


def spawn(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    log_file: Path,
    cwd: Path | None = None,
) -> ProcessRecord:
    """Start `argv` detached in its own session, output appended to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S')} start {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = None
    deadline = time.monotonic() + 2
    while started is None and time.monotonic() < deadline:
        started = start_time(proc.pid)
    return ProcessRecord(name, proc.pid, started or 0, list(argv))


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _reap(pid: int) -> None:
    """Collect the exit status if `pid` is our child (started by this process)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop(record: ProcessRecord, grace: float) -> str:
    """SIGTERM the process and its descendants; SIGKILL what is left after `grace` seconds.

    Returns how it ended: "stopped", "killed" or "not running".
    """
    if not record.alive():
        return "not running"
    family = [record.pid, *descendants(record.pid)]
    starts = {pid: start_time(pid) for pid in family}

    def survivors() -> list[int]:
        for pid in family:
            _reap(pid)
        return [p for p in family if start_time(p) == starts[p] and not is_zombie(p)]

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(record.pid, signal.SIGTERM)
    # one SIGTERM each: a second one means "exit now" to programs with a graceful stop
    _signal_all([p for p in family if _group_of(p) != record.pid], signal.SIGTERM)
    deadline = time.monotonic() + grace
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = survivors()
    if not left:
        return "stopped"
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(record.pid, signal.SIGKILL)
    _signal_all(left, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    return "killed"
