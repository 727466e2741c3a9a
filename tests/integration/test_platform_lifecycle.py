"""`up` is idempotent and `down` leaves no process and no listener behind.

Runs a second platform on its own ports and state folder, so the one the other tests use is not
touched.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from localaws import health, processes
from localaws.config import PlatformConfig

PORTS = {"LOCALSTACK_PORT": 4766, "MOTO_PORT": 4767, "XRAY_DAEMON_PORT": 2766, "API_PORT": 8766}


def free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def localaws(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localaws", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_up_is_idempotent_and_down_stops_everything_it_started(tmp_path: Path, local_aws):
    assert all(free(port) for port in PORTS.values()), "test ports are taken"
    env = {**os.environ, **{k: str(v) for k, v in PORTS.items()}}
    env.update(STATE_DIR=str(tmp_path / "state"), LOCAL_AWS="host")
    cfg = PlatformConfig.from_env(env)
    first = localaws(env, "up", "--platform-only")
    try:
        assert first.returncode == 0, first.stderr + first.stdout
        assert first.stdout.count(": started") == 3
        assert cfg.env_file.read_text().startswith("export ")
        second = localaws(env, "up", "--platform-only")
        assert second.returncode == 0, second.stderr
        assert second.stdout.count("already running") == 3
        pidfiles = processes.PidFiles(cfg.run_dir)
        records = [pidfiles.read(name) for name in pidfiles.names()]
        family = [r.pid for r in records if r] + [
            child for r in records if r for child in processes.descendants(r.pid)
        ]
        assert len(records) == 3 and all(r and r.alive() for r in records)
    finally:
        down = localaws(env, "down")
    assert down.returncode == 0, down.stderr + down.stdout
    assert all(not r.alive() for r in records if r)
    assert not [pid for pid in family if processes.start_time(pid) and not processes.is_zombie(pid)]
    assert all(free(port) for port in PORTS.values())
    assert not health.udp_bound("127.0.0.1", PORTS["XRAY_DAEMON_PORT"])
    assert pidfiles.names() == []
