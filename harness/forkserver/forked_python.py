"""``python`` for the xdist controller's workers: a fork of the fork server when it can, the real one otherwise.

    python harness/forkserver/forked_python.py [-u] [-B] -c CODE [ARG ...]

xdist starts each worker as ``PYTHON -u -c CODE`` (``route_workers`` in ``__init__.py`` makes this script the
``PYTHON``). It sends the server (``CTRLAB_FORK_SERVER``) its arguments, environment, working folder,
``sys.path`` (as ``python -c`` has it) and its standard streams, then stands in for the fork: it passes on the
signals it gets (SIGINT, SIGTERM, SIGHUP) and exits with the fork's exit code; if it dies, the server stops the
fork. Run by path, standard library only: it imports nothing from the harness.

Anything else, a server that refuses or cannot be reached, it runs with the real interpreter (``exec``),
the same arguments and streams: the worker starts as it would have without the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys

ENV = "CTRLAB_FORK_SERVER"  # ``__init__.ENV``, which this script, run by path, cannot import
CONNECT_TIMEOUT_S = 5.0
REPLY_TIMEOUT_S = 60.0  # the server may still be importing when the first worker asks
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def request(argv: list[str]) -> dict[str, object] | None:
    """What ``python ARGV`` asks of the server, or None if it is not a ``-c`` run the server knows."""
    flags = {"-u": "unbuffered", "-B": "dont_write_bytecode"}
    body: dict[str, object] = {}
    while argv and argv[0] in flags:
        body[flags[argv.pop(0)]] = True
    if len(argv) < 2 or argv[0] != "-c":
        return None
    path = ["", *sys.path[1:]]  # python -c puts the working folder first; this script put its own folder
    return {**body, "code": argv[1], "argv": argv[2:], "cwd": os.getcwd(), "env": dict(os.environ), "path": path,
            "sigint_ignored": signal.getsignal(signal.SIGINT) == signal.SIG_IGN}


def forked(argv: list[str]) -> int | None:
    """Run ``python ARGV`` as a fork of the server; its exit code, or None if the server did not start it."""
    body = request(list(argv))
    address = os.environ.get(ENV, "").split(":", 2)[-1]
    if body is None or not address:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(CONNECT_TIMEOUT_S)
        conn.connect(address)
        socket.send_fds(conn, [json.dumps(body).encode() + b"\n"], [0, 1, 2])
        conn.settimeout(REPLY_TIMEOUT_S)
        replies = conn.makefile("rb")
        pid = int(json.loads(replies.readline() or b"{}")["pid"])
    except (OSError, ValueError, KeyError):
        conn.close()
        return None
    for sig in FORWARDED:
        if signal.getsignal(sig) != signal.SIG_IGN:  # what this process ignores, the worker does too
            signal.signal(sig, lambda signum, _frame: _pass_on(pid, signum))
    try:
        conn.settimeout(None)  # the worker runs as long as the run does
        code = int(json.loads(replies.readline() or b"{}").get("exit", 1))
    except (OSError, ValueError):
        code = 1  # the server went away, and stopped the worker as it went
    if code < 0:  # killed by a signal: end the same way, as the worker's own process would have
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _pass_on(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def main() -> None:
    code = forked(sys.argv[1:])
    if code is None:
        os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
