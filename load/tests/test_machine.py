import os
import subprocess
import sys

from flashsale_load.machine import component_env, machine_info, pid_records, stack_settings
from localaws.processes import PidFiles, ProcessRecord


def test_machine_info():
    info = machine_info()
    assert info["nproc"] >= 1
    assert info["python"].count(".") == 2


def test_stack_settings_come_from_the_running_process(tmp_path):
    env = {**os.environ, "PAYMENT_LATENCY_SECONDS": "0.25", "PROCESSOR_CONCURRENCY": "7"}
    env.pop("PAYMENT_CONCURRENCY", None)
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], env=env, stdin=subprocess.PIPE
    )
    try:
        PidFiles(tmp_path).write(ProcessRecord("processor", child.pid, 0, []))
        (tmp_path / "broken.pid").write_text("not json")
        assert pid_records(tmp_path) == {"processor": child.pid}
        assert component_env(tmp_path, "processor", ["PROCESSOR_CONCURRENCY", "NOT_SET"]) == {
            "PROCESSOR_CONCURRENCY": "7"
        }
        assert component_env(tmp_path, "api") == {}
        settings = stack_settings(tmp_path)
        assert settings == {
            "processor": {"PAYMENT_LATENCY_SECONDS": "0.25", "PROCESSOR_CONCURRENCY": "7"}
        }
    finally:
        child.communicate(b"", timeout=10)


def test_no_state_folder(tmp_path):
    assert pid_records(tmp_path / "missing") == {}
    assert stack_settings(tmp_path / "missing") == {}
