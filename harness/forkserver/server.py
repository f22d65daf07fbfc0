"""A fork server: a Python interpreter that has made its imports once and starts each child as a fork of itself.

    python harness/forkserver/server.py --listen-fd FD [--preload MODULE ...]

Run by its path, not with ``-m``: it imports only the standard library and the ``--preload`` modules, never
``harness`` nor ``virtual_appliances`` (the simulators never import the harness; pytest wants to rewrite the
asserts of both packages in its workers and warns about any already imported). See ``__init__.py`` for why
the xdist controller starts it and what its children are.

A child is what ``python`` would run, in two forms only:

- ``{"module": "virtual_appliances.lab", "argv": [...]}``: ``python -m MODULE ARGV...``, as ``MODULE.main(ARGV)``.
  The server imports the module before its first such child, so later ones start with it imported;
- ``{"code": "...", "argv": [...]}``: ``python -c CODE ARGV...``, refused once the server has imported a
  module of its own (above): such a child starts from the preloaded modules alone.

The protocol, on a listening Unix stream socket the starter binds and hands over as ``FD`` (so it exists before
this process does: a client never races the server's start), one connection per child:

- the client sends one JSON line ``{"module" | "code", "argv", "cwd", "env", "path"?, "unbuffered"?,
  "dont_write_bytecode"?, "sigint_ignored"?}`` (``path``: the child's ``sys.path``, else the server's; the
  flags: ``python -u``, ``-B``, and a starter whose SIGINT is ignored, which ``exec`` keeps) with the child's
  stdin, stdout and stderr attached (``SCM_RIGHTS``, three descriptors);
- the server answers ``{"pid": N}`` (N leads its own process group, in the server's session: the terminal's
  Ctrl-C reaches the starter, not the children) or ``{"error": "..."}``: a malformed request, or an ``env``
  whose interpreter settings (``STARTUP_VARIABLES``) differ from the server's, which a fork cannot take on;
- when the child ends the server sends ``{"exit": CODE}`` and closes the connection;
- a client that closes the connection while its child runs stops it: SIGINT to its group, SIGKILL after
  ``STOP_GRACE_S``.

SIGTERM or SIGINT stops the server and its children the same way; a child whose server dies gets SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import importlib
import io
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, NoReturn

STOP_GRACE_S = 10.0  # a child stops in well under a second; past this it is killed
MAX_REQUEST_BYTES = 1 << 20
# What the interpreter reads from the environment as it starts: a fork keeps the server's. PYTHONPATH (the
# request's ``path``), PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE are applied to the child instead.
APPLIED_VARIABLES = frozenset({"PYTHONPATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"})
RUNTIME_VARIABLES = frozenset({"PYTHONBREAKPOINT", "PYTHONASYNCIODEBUG"})  # read when used, not at start


def startup_variables(env: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in env.items()
            if (name.startswith("PYTHON") and name not in APPLIED_VARIABLES | RUNTIME_VARIABLES)
            or name in ("LANG", "LC_ALL", "LC_CTYPE")}


@dataclass
class Client:
    conn: socket.socket
    data: bytes = b""
    fds: list[int] = field(default_factory=list)
    child: int | None = None  # the pid of the child it asked for, once forked


@dataclass
class Request:
    module: str | None
    code: str | None
    argv: list[str]
    cwd: str
    env: dict[str, str]
    path: list[str] | None
    unbuffered: bool
    dont_write_bytecode: bool
    sigint_ignored: bool  # the starter's SIGINT was ignored: exec would have kept it so

    @classmethod
    def parse(cls, line: bytes) -> Request:
        body = json.loads(line)
        module, code = body.get("module"), body.get("code")
        if (module is None) == (code is None):
            raise ValueError('one of "module" and "code" is required')
        path = body.get("path")
        return cls(module=None if module is None else str(module), code=None if code is None else str(code),
                   argv=[str(a) for a in body["argv"]], cwd=str(body["cwd"]),
                   env={str(k): str(v) for k, v in dict(body["env"]).items()},
                   path=None if path is None else [str(p) for p in path],
                   unbuffered=bool(body.get("unbuffered")), dont_write_bytecode=bool(body.get("dont_write_bytecode")),
                   sigint_ignored=bool(body.get("sigint_ignored")))


class ForkServer:
    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        self.clients: dict[socket.socket, Client] = {}
        self.children: dict[int, Client] = {}
        self.kill_at: dict[int, float] = {}  # child pid -> when SIGKILL follows the SIGINT it was sent
        self.startup = startup_variables(dict(os.environ))
        self.imported_own = False  # it imported a module to run: no longer the preloaded interpreter alone
        self.stop_asked = False  # set by the signal handler; acted on in the loop
        self.stopping = False

    def serve(self) -> int:
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)  # signals wake the selector; the handlers only set state
        signal.signal(signal.SIGCHLD, lambda *_: None)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        while not (self.stopping and not self.children):
            for key, _ in self.selector.select(self._timeout()):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    os.read(self.wake_r, 4096)
                else:
                    self._read(self.clients[key.fileobj])  # type: ignore[index]
            if self.stop_asked and not self.stopping:
                self._stop()
            self._reap()
            self._kill_overdue()
        return 0

    def _on_stop(self, *_: Any) -> None:
        self.stop_asked = True

    def _stop(self) -> None:
        self.stopping = True
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.listener)
        for pid in self.children:
            self._stop_child(pid)

    def _timeout(self) -> float | None:
        if not self.kill_at:
            return None
        return max(0.0, min(self.kill_at.values()) - time.monotonic())

    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            conn, _ = self.listener.accept()
            conn.setblocking(False)
            self.clients[conn] = Client(conn)
            self.selector.register(conn, selectors.EVENT_READ, "client")

    def _read(self, client: Client) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(client.conn, 65536, 4)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        client.fds.extend(fds)
        if not data:  # the client is gone: its child goes too
            self._drop(client)
            if client.child is not None and client.child in self.children:
                self._stop_child(client.child)
            return
        if client.child is not None:
            return  # nothing more is asked on a connection once its child runs
        client.data += data
        if b"\n" in client.data:
            self._start(client)
        elif len(client.data) > MAX_REQUEST_BYTES:
            self._answer(client, {"error": "request too long"}, close=True)

    def _start(self, client: Client) -> None:
        try:
            request = Request.parse(client.data.split(b"\n", 1)[0])
            if len(client.fds) != 3:
                raise ValueError("the child's stdin, stdout and stderr must come with the request")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._answer(client, {"error": f"bad request: {exc}"}, close=True)
            return
        refusal = self._refusal(request)
        if refusal:
            self._answer(client, {"error": refusal}, close=True)
            return
        if request.module is not None and request.module not in sys.modules:
            self.imported_own = True
            with contextlib.suppress(Exception):  # if it fails, the child fails the same way and says why
                importlib.import_module(request.module)
        fds, client.fds = client.fds, []
        pid = os.fork()
        if pid == 0:
            self._become_child(request, fds)
        with contextlib.suppress(OSError):  # before the pid is told: a client may signal the group at once
            os.setpgid(pid, pid)
        for fd in fds:
            os.close(fd)
        client.child = pid
        self.children[pid] = client
        self._answer(client, {"pid": pid})

    def _refusal(self, request: Request) -> str | None:
        if self.stopping:
            return "the fork server is stopping"
        if request.code is not None and self.imported_own:
            return "the fork server has imported modules of its own since it started: start python instead"
        asked = startup_variables(request.env)
        differ = sorted(name for name in asked.keys() | self.startup.keys()
                        if asked.get(name) != self.startup.get(name))
        if differ:
            return f"the interpreter settings {', '.join(differ)} differ from the fork server's: start python instead"
        return None

    def _become_child(self, request: Request, fds: list[int]) -> NoReturn:
        code = 1
        try:
            server = os.getppid()
            self._leave_server(server, request.sigint_ignored)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            for fd in fds:
                if fd > 2:
                    os.close(fd)
            _new_std_streams(request.unbuffered or bool(request.env.get("PYTHONUNBUFFERED")))
            os.chdir(request.cwd)
            os.environ.clear()
            os.environ.update(request.env)
            if request.path is not None:
                sys.path[:] = request.path
            sys.dont_write_bytecode = request.dont_write_bytecode or bool(request.env.get("PYTHONDONTWRITEBYTECODE"))
            importlib.invalidate_caches()  # files may have changed since the server started
            code = _run(request, server)
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except BaseException:  # the child must never return into the server's loop
            traceback.print_exc()
        _exit_as_python(code)

    def _leave_server(self, server: int, sigint_ignored: bool) -> None:
        """In the child: signals back to what a new interpreter has, its own process group, no server state."""
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN if sigint_ignored else signal.default_int_handler)
        os.setpgid(0, 0)  # its own process group, as a process the harness starts itself (the server does it too)
        _die_with_parent()
        if os.getppid() != server:  # the server died before the line above took effect
            os._exit(1)
        self.selector.close()
        clients = [c.conn.fileno() for c in self.clients.values()]
        for fd in (self.listener.fileno(), self.wake_r, self.wake_w, *clients):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _answer(self, client: Client, message: dict[str, Any], close: bool = False) -> None:
        with contextlib.suppress(OSError):
            client.conn.setblocking(True)
            client.conn.settimeout(5.0)
            client.conn.sendall(json.dumps(message).encode() + b"\n")
            client.conn.setblocking(False)
        if close:
            self._drop(client)

    def _drop(self, client: Client) -> None:
        if self.clients.pop(client.conn, None) is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(client.conn)
        for fd in client.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        client.fds.clear()
        with contextlib.suppress(OSError):
            client.conn.close()

    def _stop_child(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGINT)
        self.kill_at.setdefault(pid, time.monotonic() + STOP_GRACE_S)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.kill_at.pop(pid, None)
            client = self.children.pop(pid, None)
            if client is not None:
                self._answer(client, {"exit": os.waitstatus_to_exitcode(status)}, close=True)

    def _kill_overdue(self) -> None:
        now = time.monotonic()
        for pid, when in list(self.kill_at.items()):
            if now >= when:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                self.kill_at[pid] = now + STOP_GRACE_S  # reaped on its SIGCHLD; killed again if it is not


def _run(request: Request, server: int) -> int:
    """Run what the request asks, as ``python -m`` or ``python -c`` would; returns its exit code."""
    if request.module is not None:
        sys.argv = [request.module, *request.argv]
        print(f"ctrlab: python -m {request.module}, forked from the fork server (pid {server}), its modules "
              "already imported", file=sys.stderr, flush=True)
        return _exit_code(importlib.import_module(request.module).main(request.argv))
    sys.argv = ["-c", *request.argv]
    main = type(sys)("__main__")
    sys.modules["__main__"] = main
    exec(compile(request.code or "", "<string>", "exec"), main.__dict__)
    return 0


def _new_std_streams(unbuffered: bool) -> None:
    """Streams on the child's descriptors (the server's were made for its own, discarded, output); line
    buffered, and written through at once when ``python -u`` would (an xdist worker's)."""
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = _writer(1, "strict", unbuffered)
    sys.stderr = _writer(2, "backslashreplace", True)


def _writer(fd: int, errors: str, unbuffered: bool) -> io.TextIOWrapper:
    binary = open(fd, "wb", buffering=0 if unbuffered else -1, closefd=False)  # noqa: SIM115
    return io.TextIOWrapper(binary, encoding="utf-8", errors=errors, line_buffering=True,  # type: ignore[arg-type]
                            write_through=unbuffered)


def _exit_code(value: object) -> int:
    """The exit status Python gives ``sys.exit(value)``."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def _exit_as_python(code: int) -> NoReturn:
    """End the child as the interpreter ends a program: wait for its threads, run its atexit functions, flush
    its streams. Not the teardown of every module and object after that (0.3-0.6 s that nobody reads)."""
    with contextlib.suppress(BaseException):
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(code)


def _die_with_parent() -> None:
    """Linux: SIGTERM when the server dies (a lab stops as on ``ctrlab sim down``); elsewhere nothing. The
    harness's own (``backends/base.lab_preexec``) cannot be imported here: this file imports no harness."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _preload(modules: list[str]) -> None:
    """Import what every child needs. Their warnings are the importer's to show (a worker filters its own):
    not written to the server's log. A module that fails to import is left to the child, which says why."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    # The preloaded objects live as long as every child: out of the collector's sight, so neither the
    # children's collections nor their copy-on-write pages pay for them again.
    gc.collect()
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python harness/forkserver/server.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen-fd", type=int, required=True,
                        help="an inherited descriptor of a listening Unix stream socket")
    parser.add_argument("--preload", action="append", default=[], metavar="MODULE",
                        help="a module every child imports; repeatable")
    args = parser.parse_args(argv)
    listener = socket.socket(fileno=args.listen_fd)
    _preload(args.preload)
    return ForkServer(listener).serve()


if __name__ == "__main__":
    # Run by path: Python put this file's folder first on sys.path, where no module is meant to come from.
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    # Its children have ended; the interpreter's teardown of every preloaded module would cost pytest's exit
    # a few tenths of a second of waiting: skip it.
    os._exit(main())
