"""The appliance's SSH CLI: an asyncssh server in front of the dialogs of ``cli_commands.py``.

* An interactive shell (with or without a PTY) prints the login banner and the prompt, then feeds
  every line to a :class:`~.cli_commands.CliSession`. With a PTY, asyncssh's line editor echoes the
  input and turns ``\\n`` into ``\\r\\n``, as a real terminal line discipline does.
* SSH exec (``ssh admin@host "cmd1; cmd2"``) runs the ``;``-separated commands through the same
  session; a question a command asks is answered from stdin. The batch stops at the first command
  that fails; the exit status is 0 when every command succeeded, 1 otherwise.
* Faults (``appliance.faults``): ``drop_ssh_after`` cuts the next connection after N commands
  (0: right after authentication) and is consumed by it; ``slow_reply_ms`` delays every reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from collections import deque
from functools import partial

import asyncssh

from . import net_commands
from .cli_commands import CliSession, split_batch
from .model import Appliance

log = logging.getLogger("virtual_appliances.asyncos.ssh")
_CLIENT_GONE = (asyncssh.Error, OSError, EOFError)  # what reading or writing raises once the peer is gone
DROP_LINGER_S = 2.0  # a dropped connection is aborted after this, if the client has not closed it first


class _CliServer(asyncssh.SSHServer):
    """One per connection: password authentication and the drop fault."""

    def __init__(self, appliance: Appliance, username: str) -> None:
        self._appliance = appliance
        self._username = username
        self._conn: asyncssh.SSHServerConnection | None = None
        self.drop_after: int | None = None  # taken from the fault when this connection logs in

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        return True  # authentication is always required

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        # Both compared in constant time, so a wrong user name takes as long as a wrong password.
        user_ok = hmac.compare_digest(username.encode(), self._username.encode())
        password_ok = hmac.compare_digest(password.encode(), self._appliance.password.encode())
        return user_ok and password_ok

    def auth_completed(self) -> None:
        faults = self._appliance.faults
        self.drop_after, faults.drop_ssh_after = faults.drop_ssh_after, None  # one connection consumes it
        if self.drop_after == 0:
            # After asyncssh has sent the auth success, so the client sees a login, then the drop.
            asyncio.get_running_loop().call_soon(self.drop)

    def drop(self) -> None:
        """Cut the TCP connection: no SSH disconnect message, no channel close.

        The socket's write side is shut (FIN after what was written), and the connection aborted once the
        client has gone or after a moment: an immediate abort makes the kernel send a reset that discards
        output still queued, so what the client saw before the cut would depend on host load."""
        if self._conn is None:
            return
        log.info("dropping the SSH connection of %s (fault)", self._appliance.spec.name)
        sock = self._conn.get_extra_info("socket")
        with contextlib.suppress(OSError, AttributeError):
            sock.shutdown(socket.SHUT_WR)
        asyncio.get_running_loop().call_later(DROP_LINGER_S, self._conn.abort)

    def drop_due(self, session: CliSession) -> bool:
        return (self.drop_after is not None and session.commands >= self.drop_after
                and not session.in_dialog)


async def start_ssh_server(appliance: Appliance, host: str, port: int, host_key: asyncssh.SSHKey,
                           username: str = "admin", server_version: str = "") -> asyncssh.SSHAcceptor:
    """Listen for SSH on host:port (0: any free port, see ``acceptor.sockets``).

    ``server_version`` (the lab's ``ctrlab-sim_<lab id>``) goes into the SSH identification line: what a
    real appliance never sends, and what lets the harness tell this simulator from real gear."""
    return await asyncssh.listen(
        host, port, server_version=server_version or (),
        server_host_keys=[host_key],
        server_factory=partial(_CliServer, appliance, username),
        process_factory=partial(_serve, appliance),
        encoding="utf-8", errors="replace",
        line_editor=True,  # echo and line editing on PTY sessions only (asyncssh applies it to PTYs)
        agent_forwarding=False, x11_forwarding=False, allow_scp=False,
    )


async def _serve(appliance: Appliance, process: asyncssh.SSHServerProcess) -> None:
    conn = process.get_extra_info("connection")
    server = conn.get_owner()
    assert isinstance(server, _CliServer)
    session = CliSession(appliance, interactive=process.command is None)
    batch = deque(split_batch(process.command)) if process.command is not None else None
    status: int | None = None
    try:
        status = await _converse(process, session, batch, server)
    except _CLIENT_GONE as exc:  # the client went away mid-dialog: nothing to answer to
        log.debug("SSH session of %s ended: %r", appliance.spec.name, exc)
    finally:
        session.end()
    if status is not None:
        with contextlib.suppress(*_CLIENT_GONE):
            process.exit(status)


async def _converse(process: asyncssh.SSHServerProcess, session: CliSession, batch: deque[str] | None,
                    server: _CliServer) -> int | None:
    """Run the session; the exit status, or None when the drop fault cut the connection."""
    _write(process, session.welcome())
    while not session.closed:
        line = await _next_line(process, session, batch)
        if line is None:
            break  # end of input, or the batch is done
        if not session.in_dialog and net_commands.is_net_command(line):
            # dig / nslookup / telnet really query the lab resolver and connect through the netlab
            ok, text = await net_commands.run_line(line, net_commands.Vantage.of(session.appliance))
            reply = session.record(text, ok)
        else:
            reply = session.feed(line)
        await _latency(session.appliance)
        if server.drop_due(session):
            _write(process, reply)  # the command's output, then the connection is gone before the prompt
            with contextlib.suppress(*_CLIENT_GONE):
                await process.stdout.drain()
            server.drop()
            return None
        _write(process, reply + session.prompt)
        if batch is not None and session.failed and not session.in_dialog:
            break  # a batch stops at the first command that fails
    session.end()  # before the status: input that ended mid-dialog is a failure
    return 1 if session.failed and batch is not None else 0  # the status reports on exec batches


async def _next_line(process: asyncssh.SSHServerProcess, session: CliSession,
                     batch: deque[str] | None) -> str | None:
    """The next command or answer: exec commands come from the command line, everything else from
    stdin. None at the end of input."""
    if batch is not None and not session.in_dialog:
        return batch.popleft() if batch else None
    while True:
        try:
            line = await process.stdin.readline()
        except asyncssh.TerminalSizeChanged:
            continue  # the client resized its window: nothing to do
        except (asyncssh.BreakReceived, asyncssh.SignalReceived):
            _write(process, session.interrupt() + session.prompt)  # Ctrl-C abandons the dialog
            continue
        return line.rstrip("\r\n") if line else None


async def _latency(appliance: Appliance) -> None:
    delay_ms = appliance.faults.slow_reply_ms
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)  # injected network latency is wall-clock time


def _write(process: asyncssh.SSHServerProcess, text: str) -> None:
    if text:
        process.stdout.write(text)
