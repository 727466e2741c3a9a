import os
import sys
from pathlib import Path

from localaws import envfile, processes

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
TERM_IGNORER = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " print('ready', flush=True); time.sleep(60)",
]


def test_spawn_records_identity_and_stop_ends_the_process(tmp_path: Path):
    record = processes.spawn("sleeper", SLEEPER, os.environ, tmp_path / "sleeper.log")
    pids = processes.PidFiles(tmp_path / "run")
    pids.write(record)
    assert pids.running("sleeper") == record
    assert processes.stop(record, grace=5) == "stopped"
    assert not record.alive()
    assert processes.stop(record, grace=5) == "not running"


def test_a_recycled_pid_is_not_taken_for_ours(tmp_path: Path):
    pids = processes.PidFiles(tmp_path)
    started = processes.start_time(os.getpid()) or 0
    mine = processes.ProcessRecord("x", os.getpid(), started + 1, [])
    pids.write(mine)
    assert pids.running("x") is None


def test_stop_escalates_to_sigkill_after_the_grace_period(tmp_path: Path):
    log = tmp_path / "ignorer.log"
    record = processes.spawn("ignorer", TERM_IGNORER, os.environ, log)
    deadline_ok = False
    for _ in range(100):  # wait until the child installed its handler
        if "ready" in log.read_text().splitlines():
            deadline_ok = True
            break
        processes.time.sleep(0.05)
    assert deadline_ok
    assert processes.stop(record, grace=0.5) == "killed"
    assert not record.alive()


def test_stop_also_ends_descendants_that_left_the_process_group(tmp_path: Path):
    code = (
        "import subprocess, sys, time;"
        f"p = subprocess.Popen({SLEEPER!r}, start_new_session=True);"
        "print(p.pid, flush=True); time.sleep(60)"
    )
    log = tmp_path / "parent.log"
    record = processes.spawn("parent", [sys.executable, "-c", code], os.environ, log)
    child = None
    for _ in range(200):
        lines = [line for line in log.read_text().splitlines() if line.strip().isdigit()]
        if lines:
            child = int(lines[0])
            break
        processes.time.sleep(0.05)
    assert child and child in processes.descendants(record.pid)
    child_started = processes.start_time(child)
    processes.stop(record, grace=5)
    assert processes.start_time(child) != child_started or processes.is_zombie(child)


def test_env_file_round_trip(tmp_path: Path):
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "ODD": "a b'c"}
    envfile.write(tmp_path / "env", env)
    text = (tmp_path / "env").read_text()
    assert text.startswith("export ") and text.count("\n") == 1
    assert envfile.read(tmp_path / "env") == env


def test_stopping_one_component_leaves_the_others_running(tmp_path: Path):
    from localaws.components import Component
    from localaws.config import PlatformConfig
    from localaws.supervisor import Supervisor

    cfg = PlatformConfig.from_env({"STATE_DIR": str(tmp_path)})
    supervisor = Supervisor(cfg)

    def sleeper(name: str) -> Component:
        return Component(name, SLEEPER, dict(os.environ), ready=lambda: True, endpoint="-")

    first, second = sleeper("first"), sleeper("second")
    for component in (first, second):
        supervisor.ensure(component)
    stray = processes.spawn("stray", SLEEPER, os.environ, tmp_path / "stray.log")
    supervisor.pids.write(stray)
    try:
        assert supervisor.stop([first]) == [("first", "stopped")]
        assert supervisor.pids.running("second") and stray.alive()
        stopped = dict(supervisor.stop([first, second], strays=True))
        assert stopped == {"second": "stopped", "stray": "stopped"}
        assert not stray.alive() and supervisor.pids.names() == []
    finally:
        for name in ("first", "second", "stray"):
            if record := supervisor.pids.read(name):
                processes.stop(record, grace=1)


def test_stop_sends_a_single_sigterm_to_a_process_with_a_graceful_stop(tmp_path: Path):
    code = (
        "import signal, sys, time\n"
        "seen = []\n"
        "def on_term(*_):\n"
        "    seen.append(1)\n"
        "    print('term', len(seen), flush=True)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "print('ready', flush=True)\n"
        "while not seen: time.sleep(0.01)\n"
        "time.sleep(0.5)  # a graceful stop: finish work, then exit\n"
        "print('terms', len(seen), flush=True)\n"
    )
    log = tmp_path / "graceful.log"
    record = processes.spawn("graceful", [sys.executable, "-c", code], os.environ, log)
    for _ in range(200):
        if "ready" in log.read_text().splitlines():
            break
        processes.time.sleep(0.02)
    assert processes.stop(record, grace=5) == "stopped"
    assert "terms 1" in log.read_text().splitlines()
