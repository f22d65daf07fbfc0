"""The xdist controller's lab fork server, and the workers' labs started from it.

Under ``pytest -n N`` every worker starts a lab of its own as soon as it starts (``harness/early_lab.py``).
Each ``python -m virtual_appliances.lab`` would import the same libraries (about 0.4 s of CPU) while the
workers import theirs, on the same cores: on two cores the last part of a run's start that does not shrink with
the cores. So the controller, while it is still the only busy process, starts ``python -m
virtual_appliances.lab_server`` (which imports the lab once) and tells its workers where it listens
(``CTRLAB_LAB_SERVER``); each worker's sim backend asks it for its lab, and gets a fork of it
(:class:`ForkedLab`, used where a ``subprocess.Popen`` would be). The protocol is in the server's docstring.

A worker that cannot reach the server (it failed to start, it was stopped) starts its lab itself, as
without xdist; so does every process that is not a worker of the controller that started it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from .base import lab_preexec

ENV = "CTRLAB_LAB_SERVER"  # "<controller pid>:<socket path>", inherited by the controller's xdist workers
SERVER_MODULE = "virtual_appliances.lab_server"
STOP_TIMEOUT_S = 15.0  # the server stops its labs (SIGINT, SIGKILL after 10 s) before it exits
REPLY_TIMEOUT_S = 60.0  # how long :attr:`ForkedLab.pid` waits for the server's answer (it may still be importing)


class LabServer:
    """The running fork server, owned by the xdist controller."""

    def __init__(self, process: subprocess.Popen[bytes], directory: Path, log_path: Path) -> None:
        self.process = process
        self.directory = directory
        self.log_path = log_path

    def stop(self) -> None:
        if os.environ.get(ENV, "").startswith(f"{os.getpid()}:"):
            del os.environ[ENV]
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            if self.log_path.stat().st_size == 0:  # it had nothing to say: no file left in the reports
                self.log_path.unlink()


def start_server(project_root: Path | None, log_path: Path) -> LabServer:
    """Start the fork server and publish its address to the workers this process will start (raises OSError).

    The socket is bound and listening before the server runs (it inherits it), so a worker's request waits
    in the socket's queue until the server, still importing, accepts it: no worker races the server's start.
    The server's own output (only errors) goes to ``log_path``."""
    directory = Path(tempfile.mkdtemp(prefix="ctrlab-labserver-"))
    path = directory / "labs.sock"
    env = dict(os.environ)
    if project_root is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(project_root), env.get("PYTHONPATH")) if p)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener, log_path.open("wb") as log:
            listener.bind(str(path))
            listener.listen(64)
            # Once started, the server's copy of the socket is the only one: if it dies, requests are refused.
            process = subprocess.Popen(
                [sys.executable, "-m", SERVER_MODULE, "--listen-fd", str(listener.fileno())],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                pass_fds=(listener.fileno(),), start_new_session=True,  # a Ctrl-C reaches pytest, which stops it
                preexec_fn=lab_preexec())
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    os.environ[ENV] = f"{os.getpid()}:{path}"
    return LabServer(process, directory, log_path)


def server_address() -> Path | None:
    """The socket of the fork server this process may use: only an xdist worker of the controller that
    started it (a nested pytest, a tool it runs, inherit the variable but are not its workers)."""
    value = os.environ.get(ENV, "")
    owner, _, path = value.partition(":")
    if not (owner.isdigit() and path and os.environ.get("PYTEST_XDIST_WORKER")) or int(owner) != os.getppid():
        return None
    return Path(path)


def launch(address: Path, lab_args: list[str], log: IO[bytes], env: dict[str, str], cwd: Path) -> ForkedLab | None:
    """Ask the server for a lab; returns at once (the server answers while the caller goes on). None if the
    server cannot be reached: the caller starts the lab itself."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(5.0)
        conn.connect(str(address))
        request = json.dumps({"argv": lab_args, "cwd": str(cwd), "env": env}).encode() + b"\n"
        socket.send_fds(conn, [request], [log.fileno()])
    except OSError:
        conn.close()
        return None
    return ForkedLab(conn, lab_args)


class ForkedLab:
    """A lab the fork server started: the parts of ``subprocess.Popen`` the sim backend uses.

    The connection is the handle: the server sends the lab's pid, then its exit code when it ends; closing the
    connection (this process ending, however it ends) makes the server stop the lab."""

    def __init__(self, conn: socket.socket, args: list[str]) -> None:
        self.conn: socket.socket | None = conn
        self.args = [SERVER_MODULE, *args]
        self.returncode: int | None = None
        self.failure: str | None = None  # what the server said or did instead of reporting an exit
        self._pid: int | None = None
        self._buffer = b""

    @property
    def pid(self) -> int:
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while self._pid is None and self.conn is not None and time.monotonic() < deadline:
            self._receive(deadline - time.monotonic())
        if self._pid is None:
            raise ProcessLookupError(self.failure or "the lab server did not say which process runs the lab")
        return self._pid

    def poll(self) -> int | None:
        self._receive(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
            self._receive(left)
        return self.returncode

    def _receive(self, timeout: float | None) -> None:
        """Read what the server sent within ``timeout`` (0: only what has arrived)."""
        if self.conn is None:
            return
        self.conn.settimeout(timeout)
        try:
            data = self.conn.recv(4096)
        except (TimeoutError, BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            data, self.failure = b"", f"the connection to the lab server failed: {exc}"
        if not data:
            self._closed(self.failure or "the lab server closed the connection without the lab's exit code")
            return
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self._message(json.loads(line))

    def _message(self, message: dict[str, Any]) -> None:
        if "pid" in message:
            self._pid = int(message["pid"])
        elif "exit" in message:
            self.returncode = int(message["exit"])
            self._close()
        else:
            self._closed(f"the lab server refused the lab: {message.get('error', message)}")

    def _closed(self, why: str) -> None:
        self.failure = self.failure or why
        if self.returncode is None:
            self.returncode = -int(signal.SIGKILL)  # no exit code will come: as if the lab had been killed
        self._close()

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

