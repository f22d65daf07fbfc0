"""A fork server for labs: it imports the lab once, then starts each lab it is asked for as a fork of itself.

    python -m virtual_appliances.lab_server --listen-fd FD

Under pytest-xdist every worker runs a lab of its own. Started as ``python -m virtual_appliances.lab``, each
of them imports aiohttp, asyncssh, aiosmtpd and dnspython (about 0.4 s of CPU) while the workers import
theirs, on the same cores. The xdist controller starts this server instead, while it is still alone on the
machine (``harness/lab_server.py``), and each worker asks it for its lab: a fork with every module already
imported, which only builds its keys and listeners. A fork is otherwise the same lab: same arguments, same
log, its own process group and its own random state (Python reseeds ``random`` in a forked child).

The protocol, on a listening Unix stream socket the starter binds and hands over as ``FD`` (so it exists before
this process does: a client never races the server's start), one connection per lab:

- the client sends one JSON line ``{"argv": [...], "cwd": "...", "env": {...}}`` (``argv``: the arguments of
  ``python -m virtual_appliances.lab``) with the descriptor of the lab's log attached (``SCM_RIGHTS``);
- the server answers ``{"pid": N}`` (N leads the lab's process group, in the server's session: the
  terminal's Ctrl-C reaches pytest, not the labs) or ``{"error": "..."}``;
- when the lab ends the server sends ``{"exit": CODE}`` and closes the connection;
- a client that closes the connection while its lab runs stops it: SIGINT to its group, SIGKILL after
  ``STOP_GRACE_S``.

SIGTERM or SIGINT stops the server and its labs the same way; a lab whose server dies gets SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, NoReturn

STOP_GRACE_S = 10.0  # a lab stops in well under a second; past this it is killed
MAX_REQUEST_BYTES = 1 << 20


@dataclass
class Client:
    conn: socket.socket
    data: bytes = b""
    fds: list[int] = field(default_factory=list)
    lab: int | None = None  # the pid of the lab it asked for, once forked


class LabServer:
    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        self.clients: dict[socket.socket, Client] = {}
        self.labs: dict[int, Client] = {}
        self.kill_at: dict[int, float] = {}  # lab pid -> when SIGKILL follows the SIGINT it was sent
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
        while not (self.stopping and not self.labs):
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
        for pid in self.labs:
            self._stop_lab(pid)

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
        if not data:  # the client is gone: its lab goes too
            self._drop(client)
            if client.lab is not None and client.lab in self.labs:
                self._stop_lab(client.lab)
            return
        if client.lab is not None:
            return  # nothing more is asked on a connection once its lab runs
        client.data += data
        if b"\n" in client.data:
            self._start_lab(client)
        elif len(client.data) > MAX_REQUEST_BYTES:
            self._answer(client, {"error": "request too long"}, close=True)

    def _start_lab(self, client: Client) -> None:
        try:
            request = json.loads(client.data.split(b"\n", 1)[0])
            argv, cwd, env = list(request["argv"]), str(request["cwd"]), dict(request["env"])
            if len(client.fds) != 1:
                raise ValueError("the lab's log descriptor must come with the request")
        except (ValueError, KeyError, TypeError) as exc:
            self._answer(client, {"error": f"bad request: {exc}"}, close=True)
            return
        if self.stopping:
            self._answer(client, {"error": "the lab server is stopping"}, close=True)
            return
        log_fd = client.fds.pop()
        pid = os.fork()
        if pid == 0:
            self._become_lab(argv, cwd, env, log_fd)
        with contextlib.suppress(OSError):  # before the pid is told: a client may signal the group at once
            os.setpgid(pid, pid)
        os.close(log_fd)
        client.lab = pid
        self.labs[pid] = client
        self._answer(client, {"pid": pid})

    def _become_lab(self, argv: list[str], cwd: str, env: dict[str, str], log_fd: int) -> NoReturn:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            server = os.getppid()
            os.setpgid(0, 0)  # its own process group, as a lab the harness starts itself (the server does it too)
            _die_with_parent()
            if os.getppid() != server:  # the server died before the line above took effect
                os._exit(1)
            self.selector.close()
            clients = [c.conn.fileno() for c in self.clients.values()]
            for fd in (self.listener.fileno(), self.wake_r, self.wake_w, *clients):
                with contextlib.suppress(OSError):
                    os.close(fd)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            os.close(log_fd)
            # New streams on the log, line-buffered: the server's were made for its own (discarded) output.
            sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
            print(f"ctrlab lab: forked from the lab server (pid {server}), its modules already imported", flush=True)
            from . import lab

            code = lab.main(argv)
        except SystemExit as exc:  # argparse's errors, as the lab module exits with them
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # the child must never return into the server's loop
            traceback.print_exc()
        from .lab import exit_now  # imported by main() before any fork

        exit_now(code)

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

    def _stop_lab(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGINT)
        self.kill_at.setdefault(pid, time.monotonic() + STOP_GRACE_S)

    def _reap(self) -> None:
        while self.labs:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.kill_at.pop(pid, None)
            client = self.labs.pop(pid, None)
            if client is not None:
                self._answer(client, {"exit": os.waitstatus_to_exitcode(status)}, close=True)

    def _kill_overdue(self) -> None:
        now = time.monotonic()
        for pid, when in list(self.kill_at.items()):
            if now >= when:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                self.kill_at[pid] = now + STOP_GRACE_S  # reaped on its SIGCHLD; killed again if it is not


def _die_with_parent() -> None:
    """Linux: SIGTERM when the server dies (the lab stops as on ``ctrlab sim down``); elsewhere nothing."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m virtual_appliances.lab_server",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen-fd", type=int, required=True,
                        help="an inherited descriptor of a listening Unix stream socket")
    args = parser.parse_args(argv)
    listener = socket.socket(fileno=args.listen_fd)
    from . import lab  # noqa: F401 - the imports every lab would make: once, here, before any fork

    return LabServer(listener).serve()


if __name__ == "__main__":
    # Its labs have ended; the interpreter's teardown of every module the labs use would cost pytest's exit
    # a few tenths of a second of waiting: skip it.
    os._exit(main())
