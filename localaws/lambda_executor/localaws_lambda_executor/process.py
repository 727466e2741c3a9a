"""One runtime process: the shim under the function's interpreter, in a process group of its own.

The process inherits two descriptors: a listening socket bound here to a free 127.0.0.1 port
(so there is no race for the port, and an invoke sent before the shim serves waits in the
backlog) and the read end of a pipe whose write end only this process holds: when the parent
dies, however it dies, the shim reads end-of-file and kills its group (no orphans).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from localaws_lambda_executor.shim import CONTROL_FD_VAR, LISTEN_FD_VAR

SHIM_PATH = str(Path(__file__).with_name("shim.py"))
HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 3.0

_running: set[ShimProcess] = set()
_running_lock = threading.Lock()


class ShimProcess:
    """Start, watch and stop one shim process; keeps its recent output for diagnostics."""

    def __init__(
        self,
        python: str,
        env: Mapping[str, str],
        cwd: str | Path,
        *,
        on_exit: Callable[[ShimProcess, int], None] | None = None,
        keep_lines: int = 2000,
    ) -> None:
        self.python = python
        self.env = dict(env)
        self.cwd = str(cwd)
        self.port: int | None = None
        self._on_exit = on_exit
        self._proc: subprocess.Popen[bytes] | None = None
        self._control_write: int | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=keep_lines)
        self._capture: list[str] | None = None
        self._lock = threading.Lock()
        self._exited = threading.Event()

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        control_read, control_write = os.pipe()
        try:
            listener.bind((HOST, 0))
            listener.listen(64)
            self.port = listener.getsockname()[1]
            env = {
                **self.env,
                LISTEN_FD_VAR: str(listener.fileno()),
                CONTROL_FD_VAR: str(control_read),
            }
            self._proc = subprocess.Popen(
                [self.python, SHIM_PATH],
                env=env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(), control_read),
                start_new_session=True,
            )
        except BaseException:
            os.close(control_write)
            raise
        finally:
            listener.close()
            os.close(control_read)
        self._control_write = control_write
        with _running_lock:
            _running.add(self)
        threading.Thread(target=self._pump, name=f"lambda-shim-{self.pid}", daemon=True).start()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM to the whole group, SIGKILL after `grace` seconds (and to any stragglers)."""
        if self._proc is None:
            return
        self._signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(grace)
        self.kill()

    def kill(self) -> None:
        if self._proc is None:
            return
        self._signal_group(signal.SIGKILL)
        self._proc.wait()
        self._exited.wait(5)
        self._close_control()

    def _close_control(self) -> None:
        with self._lock:
            fd, self._control_write = self._control_write, None
        if fd is not None:
            os.close(fd)

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    # state ----------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # output ---------------------------------------------------------------------------------
    def output(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def begin_capture(self) -> None:
        """Collect the output from now on (the logs of an invocation the shim cannot report)."""
        with self._lock:
            self._capture = []

    def end_capture(self) -> str:
        with self._lock:
            captured, self._capture = self._capture or [], None
        return "".join(captured)

    def _pump(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in iter(self._proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            with self._lock:
                self._lines.append(line)
                if self._capture is not None:
                    self._capture.append(line)
        self._proc.stdout.close()
        returncode = self._proc.wait()
        self._close_control()
        with _running_lock:
            _running.discard(self)
        self._exited.set()
        if self._on_exit is not None:
            self._on_exit(self, returncode)


@atexit.register
def _stop_all() -> None:
    """Last resort when the host process exits without stopping its executors."""
    with _running_lock:
        leftovers = list(_running)
    for process in leftovers:
        process.stop(grace=1.0)
