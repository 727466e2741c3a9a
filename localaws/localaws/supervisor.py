"""Bring components up idempotently, stop exactly what was started, report what runs."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from localaws import health, processes
from localaws.components import Component
from localaws.config import HOST, PlatformConfig


class StartError(RuntimeError):
    pass


@dataclass
class StartResult:
    name: str
    state: str  # "started" | "already running"
    pid: int
    seconds: float


def _port_busy(kind: str, port: int) -> bool:
    return health.tcp_listening(HOST, port) if kind == "tcp" else health.udp_bound(HOST, port)


def _log_tail(cfg: PlatformConfig, name: str, lines: int = 25) -> str:
    path = cfg.log_dir / f"{name}.log"
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Supervisor:
    def __init__(self, cfg: PlatformConfig) -> None:
        self.cfg = cfg
        self.pids = processes.PidFiles(cfg.run_dir)

    def ensure(self, component: Component) -> StartResult:
        """Start `component` unless it already runs; wait until it answers its probe."""
        t0 = time.monotonic()
        record = self.pids.running(component.name)
        if record:
            if not health.wait_until(component.ready, timeout=component.start_timeout):
                raise StartError(f"{component.name} (pid {record.pid}) runs but does not answer")
            return StartResult(component.name, "already running", record.pid, 0.0)
        self.pids.remove(component.name)
        busy = [f"{kind} {port}" for kind, port in component.ports if _port_busy(kind, port)]
        if busy:
            raise StartError(
                f"cannot start {component.name}: port {', '.join(busy)} on {HOST} is taken by "
                "a process this checkout did not start (stop it, or choose other ports: see README)"
            )
        record = processes.spawn(
            component.name,
            component.argv,
            component.env,
            self.cfg.log_dir / f"{component.name}.log",
            cwd=component.cwd,
        )
        self.pids.write(record)
        started = health.wait_until(
            component.ready, component.start_timeout, still_alive=record.alive
        )
        if not started:
            alive = record.alive()
            processes.stop(record, grace=component.stop_grace)
            self.pids.remove(component.name)
            why = "did not become ready in time" if alive else "exited"
            raise StartError(
                f"{component.name} {why}; last lines of its log:\n"
                + _log_tail(self.cfg, component.name)
            )
        return StartResult(component.name, "started", record.pid, time.monotonic() - t0)

    def stop(self, components: Iterable[Component], strays: bool = False) -> list[tuple[str, str]]:
        """Stop `components` in reverse start order.

        With `strays`, also whatever else has a PID file here (what an older `up` started under a
        name that no longer exists): `down` must leave nothing behind.
        """
        ordered = list(components)
        known = {c.name for c in ordered}
        extra = [n for n in self.pids.names() if n not in known] if strays else []
        results = []
        grace = {c.name: c.stop_grace for c in ordered}
        for name in extra + [c.name for c in reversed(ordered)]:
            record = self.pids.read(name)
            if record is None:
                continue
            results.append((name, processes.stop(record, grace=grace.get(name, 10.0))))
            self.pids.remove(name)
        return results

    def leftovers(self, components: Iterable[Component], timeout: float = 5.0) -> list[str]:
        """Ports of `components` still listening after a stop (polled until `timeout`)."""
        ports = [(c.name, kind, port) for c in components for kind, port in c.ports]

        def busy() -> list[str]:
            return [f"{name} {kind}/{port}" for name, kind, port in ports if _port_busy(kind, port)]

        health.wait_until(lambda: not busy(), timeout=timeout)
        return busy()

    def status(self, components: Iterable[Component]) -> list[dict[str, object]]:
        rows = []
        for component in components:
            record = self.pids.running(component.name)
            rss = processes.rss_kib(record.pid) if record else None
            if record:
                rss = (rss or 0) + sum(
                    processes.rss_kib(child) or 0 for child in processes.descendants(record.pid)
                )
            state = "stopped"
            if record:
                state = "ready" if component.ready() else "not answering"
            rows.append(
                {
                    "name": component.name,
                    "state": state,
                    "pid": record.pid if record else None,
                    "rss_mib": round(rss / 1024, 1) if rss else None,
                    "endpoint": component.endpoint,
                }
            )
        return rows
