"""The xdist controller's fork server: its workers, and their labs, start as forks of one interpreter.

Under ``pytest -n N`` every worker is a new ``python`` that imports pytest and the harness's libraries
(asyncssh, requests, pydantic, dnspython, the Allure and Gherkin ones: about 0.4 s of CPU), then starts a lab
of its own (``harness/early_lab.py``), a new ``python -m virtual_appliances.lab`` that imports aiohttp,
asyncssh, aiosmtpd and dnspython (about as much again), all at once on the same cores: on two cores the part of
a run's start that does not shrink with the cores. So the controller, while it is still alone, starts
``server.py`` (the protocol is in its docstring), which imports ``WORKER_LIBRARIES`` once:

- each worker's ``python`` is ``forked_python.py`` (:func:`route_workers`, from xdist's
  ``pytest_xdist_setupnodes``), a small stand-in that hands the server its arguments, environment and standard
  streams and gets a fork with those modules imported. The harness, the steps and the plugins pytest rewrites
  are imported by the worker itself, as before; anything the server cannot fork as that ``python`` would run
  (other interpreter settings, a server gone) the stand-in runs with the real ``python``;
- each worker's sim backend asks the server for its lab (:func:`launch`), a fork too: the server imports the
  lab's modules at the first such request (the labs after it start with them imported), and from then on
  forks no more workers (their stand-ins start ``python``): a worker is never a process with the simulators
  imported.

Every process that is not a worker of the controller that started the server starts its lab itself, as
without xdist.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from ..backends.base import lab_preexec

ENV = "CTRLAB_FORK_SERVER"  # "<controller pid>:<server pid>:<socket path>", inherited by the controller's workers
HERE = Path(__file__).resolve().parent
SERVER = HERE / "server.py"  # run by path: see its docstring
FORKED_PYTHON = HERE / "forked_python.py"
STOP_TIMEOUT_S = 15.0  # the server stops its children (SIGINT, SIGKILL after 10 s) before it exits
REPLY_TIMEOUT_S = 60.0  # how long :attr:`ForkedLab.pid` waits for the server's answer (it may still be importing)
# What an xdist worker of this suite imports that pytest does not rewrite (not the harness, the steps, nor a
# pytest plugin's own package): pytest, its plugins' libraries, the harness's protocol and model libraries.
# tests/harness/test_forkserver_client.py checks that this still covers what a worker imports.
WORKER_LIBRARIES = (
    "pytest", "_pytest.faulthandler", "_pytest.helpconfig", "_pytest.junitxml", "_pytest.pastebin",
    "_pytest.setuponly", "_pytest.setupplan", "_pytest.skipping", "_pytest.threadexception",
    "_pytest.tracemalloc", "_pytest.unittest", "_pytest.unraisableexception", "_pytest.warnings",
    "pygments.formatters.terminal", "pygments.lexers.diff", "pygments.lexers.python", "execnet",
    "allure", "allure_commons.lifecycle", "allure_commons.logger",
    "gherkin.parser", "gherkin.pickles.compiler", "mako.lookup", "mako.ext.pygmentplugin", "parse_type.cfparse",
    "packaging.version", "asyncssh", "requests", "lxml.etree", "yaml", "ahocorasick_rs",
    "pydantic", "pydantic.main", "pydantic.fields", "pydantic.types", "pydantic.functional_validators",
    "pydantic.json_schema", "dns.message", "dns.query", "dns.resolver",
)


class ForkServer:
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


def start_server(project_root: Path | None, log_path: Path) -> ForkServer:
    """Start the fork server and publish its address to the workers this process will start (raises OSError).

    The socket is bound and listening before the server runs (it inherits it), so a request waits in the
    socket's queue until the server, still importing, accepts it: nobody races the server's start. The
    server's own output (only errors) goes to ``log_path``."""
    directory = Path(tempfile.mkdtemp(prefix="ctrlab-forkserver-"))
    path = directory / "fork.sock"
    env = dict(os.environ)
    if project_root is not None:  # where the labs it forks import the simulators from
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(project_root), env.get("PYTHONPATH")) if p)
    preload = [arg for name in WORKER_LIBRARIES for arg in ("--preload", name)]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener, log_path.open("wb") as log:
            listener.bind(str(path))
            listener.listen(64)
            # Once started, the server's copy of the socket is the only one: if it dies, requests are refused.
            process = subprocess.Popen(
                [sys.executable, str(SERVER), "--listen-fd", str(listener.fileno()), *preload],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                pass_fds=(listener.fileno(),), start_new_session=True,  # a Ctrl-C reaches pytest, which stops it
                preexec_fn=lab_preexec())
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    os.environ[ENV] = f"{os.getpid()}:{process.pid}:{path}"
    return ForkServer(process, directory, log_path)


def route_workers(specs: Iterable[Any]) -> None:
    """xdist's worker specs: a local worker's ``python`` becomes the stand-in that asks the server for a fork
    (``popen`` specs that name no interpreter, no ``via`` and no ``chdir`` of their own: the ones ``-n`` makes)."""
    if not os.environ.get(ENV, "").startswith(f"{os.getpid()}:"):
        return
    for spec in specs:
        if spec.popen and not (spec.python or spec.via or spec.chdir):
            spec.python = f"{shlex.quote(sys.executable)} {shlex.quote(str(FORKED_PYTHON))}"


def server_address() -> Path | None:
    """The socket of the fork server this process may use: only an xdist worker of the controller that
    started it, forked by the server or not (a nested pytest, a tool it runs, inherit the variable but are
    not its workers)."""
    owner, _, rest = os.environ.get(ENV, "").partition(":")
    server, _, path = rest.partition(":")
    if not (owner.isdigit() and server.isdigit() and path and os.environ.get("PYTEST_XDIST_WORKER")):
        return None
    return Path(path) if os.getppid() in (int(owner), int(server)) else None


def launch(address: Path, module: str, lab_args: list[str], log: IO[bytes], env: dict[str, str],
           cwd: Path) -> ForkedLab | None:
    """Ask the server for a lab (``python -m MODULE LAB_ARGS``, its output to ``log``);
    returns at once (the server answers while the caller goes on). None if the server cannot be reached: the
    caller starts the lab itself."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(5.0)
        conn.connect(str(address))
        request = json.dumps({"module": module, "argv": lab_args, "cwd": str(cwd), "env": env}).encode()
        with open(os.devnull, "rb") as devnull:
            socket.send_fds(conn, [request + b"\n"], [devnull.fileno(), log.fileno(), log.fileno()])
    except OSError:
        conn.close()
        return None
    return ForkedLab(conn, [module, *lab_args])


class ForkedLab:
    """A lab the fork server started: the parts of ``subprocess.Popen`` the sim backend uses.

    The connection is the handle: the server sends the lab's pid, then its exit code when it ends; closing the
    connection (this process ending, however it ends) makes the server stop the lab."""

    def __init__(self, conn: socket.socket, args: list[str]) -> None:
        self.conn: socket.socket | None = conn
        self.args = args  # as Popen.args, for TimeoutExpired
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
            raise ProcessLookupError(self.failure or "the fork server did not say which process runs the lab")
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
            data, self.failure = b"", f"the connection to the fork server failed: {exc}"
        if not data:
            self._closed(self.failure or "the fork server closed the connection without the lab's exit code")
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
            self._closed(f"the fork server refused the lab: {message.get('error', message)}")

    def _closed(self, why: str) -> None:
        self.failure = self.failure or why
        if self.returncode is None:
            self.returncode = -int(signal.SIGKILL)  # no exit code will come: as if the lab had been killed
        self._close()

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

