"""SSH clients for the CLI tests: an interactive PTY shell read prompt by prompt, and SSH exec.

The clients run on their own event loop (a second background thread), so a server that hangs can never
stall the client's own timeouts. Every network call is bounded by ``TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

import asyncssh

from tests.support.loop import BackgroundLoop
from virtual_appliances.asyncos.model import BUSY_SECONDS, Appliance
from virtual_appliances.common.clock import SimClock

T = TypeVar("T")
HOST = "127.0.0.1"
TIMEOUT = 10.0  # seconds, for every network call of the tests
DATE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                  r"\d{2} \d{2}:\d{2}:\d{2} \d{4} GMT")


class ExecResult(NamedTuple):
    status: int | None
    output: str  # raw: no PTY, so "\n" line ends


@dataclass
class CliLab:
    """One simulated appliance with its SSH CLI listening on 127.0.0.1:<port>."""

    appliance: Appliance
    clock: SimClock
    port: int
    server_loop: BackgroundLoop
    client_loop: BackgroundLoop
    stoppers: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    @property
    def hostname(self) -> str:
        return self.appliance.spec.hostname

    def client(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.client_loop.run(coro, TIMEOUT + 5)  # the coroutine's own timeout fires first

    def on_server(self, action: Callable[[], T]) -> T:
        """Set-up only: run ``action`` on the server's loop, where the appliance lives."""

        async def call() -> T:
            return action()

        return self.server_loop.run(call(), TIMEOUT)

    def server_tasks(self) -> int:
        """How many tasks the server's loop runs (leak checks)."""

        async def count() -> int:
            return len(asyncio.all_tasks()) - 1  # not this one

        return self.server_loop.run(count(), TIMEOUT)

    def shell(self, term_type: str | None = "vt100") -> Shell:
        shell = Shell(self, term_type)
        shell.open()
        return shell

    def exec(self, command: str, stdin: str = "") -> ExecResult:
        """``ssh admin@host "<command>" < input``: stdin is closed after ``stdin``."""
        return self.client(_exec(self, command, stdin))

    async def connect(self, password: str | None = None) -> asyncssh.SSHClientConnection:
        return await asyncssh.connect(
            HOST, self.port, username="admin", password=self.appliance.password if password is None else password,
            known_hosts=None, client_keys=None, agent_path=None, config=None,
            preferred_auth="password", connect_timeout=TIMEOUT, login_timeout=TIMEOUT)

    def commit_date_ok(self, text: str, before: datetime, after: datetime) -> bool:
        """The "Changes committed: <date>" of ``text`` lies between two lab clock readings."""
        found = DATE.search(text)
        if not found:
            return False
        when = datetime.strptime(found.group(0), "%a %b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)
        return before - timedelta(seconds=1) <= when <= after


async def _exec(lab: CliLab, command: str, stdin: str) -> ExecResult:
    async with asyncio.timeout(TIMEOUT):
        conn = await lab.connect()
        try:
            proc = await conn.create_process(command)
            if stdin:
                proc.stdin.write(stdin)
            proc.stdin.write_eof()
            chunks: list[str] = []
            try:
                while chunk := await proc.stdout.read(65536):
                    chunks.append(chunk)
            except (BrokenPipeError, ConnectionResetError, asyncssh.ConnectionLost):
                # The server cut the connection (the drop fault): what arrived is all there is, and a
                # client still writing sees a broken pipe rather than a clean end of output.
                return ExecResult(None, "".join(chunks))
            await proc.wait_closed()
            return ExecResult(proc.exit_status, "".join(chunks))
        finally:
            conn.close()


class Shell:
    """An interactive shell as a terminal user drives it: type a line, read up to the next prompt.

    Transcripts are returned with "\\r\\n" turned into "\\n" (the raw text is kept in ``raw``), starting
    with the prompt the shell was waiting at, so they read like the seed's transcripts."""

    def __init__(self, lab: CliLab, term_type: str | None) -> None:
        self.lab = lab
        self.term_type = term_type
        self.conn: asyncssh.SSHClientConnection | None = None
        self.proc: asyncssh.SSHClientProcess[str] | None = None
        self.raw = ""  # everything received
        self.banner = ""
        self.waiting_at = ""  # the prompt the session waits at

    # ---- sync API -------------------------------------------------------------------------------
    def open(self) -> str:
        self.banner = self.lab.client(self._open())
        return self.banner

    def dialog(self, *lines: str) -> str:
        """Type each line after the previous prompt; the transcript up to the final prompt."""
        return self.lab.client(self._dialog(lines))

    @property
    def enter(self) -> str:
        return "\r" if self.term_type else "\n"  # a terminal sends CR; a pipe (ssh -T) sends LF

    def type(self, data: str) -> None:
        """Send keys without waiting (e.g. Ctrl-D)."""
        self.lab.client(self._type(data))

    def read_prompt(self) -> str:
        return self.lab.client(self._read_prompt())

    def read_to_eof(self) -> str:
        """What arrives until the server closes the connection."""
        return self.lab.client(self._read_to_eof())

    def timed_dialog(self, line: str) -> tuple[str, float]:
        started = time.monotonic()
        text = self.dialog(line)
        return text, time.monotonic() - started

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            self.lab.client(_close(conn))

    def abort(self) -> None:
        """Drop the TCP connection without any SSH goodbye (a client that vanishes)."""
        if self.conn is not None:
            conn, self.conn = self.conn, None
            self.lab.client(_abort(conn))

    def __enter__(self) -> Shell:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- async side -----------------------------------------------------------------------------
    async def _open(self) -> str:
        async with asyncio.timeout(TIMEOUT):
            self.conn = await self.lab.connect()
            if self.term_type:
                self.proc = await self.conn.create_process(term_type=self.term_type, term_size=(200, 50))
            else:
                self.proc = await self.conn.create_process()  # a shell without a PTY (ssh -T)
            return await self._read_prompt()

    async def _dialog(self, lines: tuple[str, ...]) -> str:
        transcript = self.waiting_at
        for line in lines:
            await self._type(line + self.enter)
            transcript += await self._read_prompt()
        return transcript

    async def _type(self, data: str) -> None:
        assert self.proc is not None
        self.proc.stdin.write(data)

    async def _read_prompt(self) -> str:
        """Read until the output ends with a prompt ("> "); every reply is written in one piece."""
        assert self.proc is not None
        buf = ""
        async with asyncio.timeout(TIMEOUT):
            while not buf.endswith("> "):
                data = await self.proc.stdout.read(65536)
                if not data:
                    raise ConnectionError(f"the appliance closed the session; received: {buf!r}")
                buf += data
        self.raw += buf
        text = buf.replace("\r\n", "\n")
        self.waiting_at = text.rpartition("\n")[2]
        return text

    async def _read_to_eof(self) -> str:
        assert self.proc is not None
        buf = ""
        async with asyncio.timeout(TIMEOUT):
            try:
                while data := await self.proc.stdout.read(65536):
                    buf += data
            except asyncssh.ConnectionLost:
                pass  # an abrupt close (the drop fault) ends the data as EOF does
        self.raw += buf
        return buf.replace("\r\n", "\n")


async def _close(conn: asyncssh.SSHClientConnection) -> None:
    conn.close()
    async with asyncio.timeout(TIMEOUT):
        await conn.wait_closed()


async def _abort(conn: asyncssh.SSHClientConnection) -> None:
    conn.abort()
    async with asyncio.timeout(TIMEOUT):
        await conn.wait_closed()


def poll(check: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Wait for ``check`` to hold, polling to a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.01)


# ---- getting an appliance into a state, through the CLI where the CLI can ------------------------
TOKEN = "de7c55f3ff0absdfsf4a25aae94dfb064642"  # seed 003's token


def awaiting_token(lab: CliLab) -> None:
    """Enabled and committed over SSH, then the lab clock moved past "a few minutes" (ENA-4)."""
    result = lab.exec('threatresponseconfig enable; commit "enable"')
    assert result.status == 0, result
    lab.on_server(lambda: lab.clock.advance(BUSY_SECONDS))


def registered(lab: CliLab) -> None:
    """Registered: the token goes in over SSH; SSE's answer is stood in for (no connector in these tests)."""
    awaiting_token(lab)
    result = lab.exec(f"cloudserviceconfig register {TOKEN}")
    assert result.status == 0, result
    lab.on_server(lambda: lab.appliance.connector_result("register", True, device_id=str(uuid.uuid4())))
