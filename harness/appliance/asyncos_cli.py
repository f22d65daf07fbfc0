"""The AsyncOS command line over SSH: an interactive PTY shell driven prompt by prompt.

Conventions (reference/asyncos.md 1.1-1.6):

* The main prompt is learned at login, as the last line ending in ``> `` after the banner
  (``mail1.example.com> ``, ``(Machine esa1.example.com)> ``), and matched literally afterwards,
  because ``> `` also ends every sub-prompt. A prompt of the AsyncOS family that differs from the
  learned one (``(Cluster name)> `` after ``clustermode cluster``) means the mode changed: it is
  accepted and becomes the prompt.
* Sub-prompts end in ``[]> ``, ``[N]> ``, ``[Y]> ``, ``[1]> `` (the default in the brackets) or are a
  bare ``> `` line; each one must be answered by the caller's script.
* The pager ``-Press Any Key For More-`` is answered with a space, wherever it appears.
* ``Unknown command ...`` / ``... missing feature key ...`` raise :class:`~harness.errors.CliError`.
* ``commit`` asks for a comment, and newer releases then ask
  ``Do you want to save the current configuration for rollback? [Y]>``, answered ``Y``.
* Batch commands go through SSH exec (no PTY, stdin closed), ``;``-joined, returning the exit status.

Transport faults raise :class:`~harness.errors.LabUnreachable` (``DriverTimeout`` when no prompt
comes in time); the broken session is dropped and the next call reconnects (a bounded number of
attempts). Nothing here is specific to a simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import asyncssh

from ..errors import AuthenticationFailed, CliError, DriverTimeout, HostKeyMismatch, HostKeyUnknown, LabUnreachable
from ..transcript import Transcript
from ..trust import HostTrust, fingerprint, lookup
from ._aio import DriverLoop, driver_loop

PAGER = "-Press Any Key For More-"
ROLLBACK_QUESTION = r"save the current configuration for rollback"
COMMENT_QUESTION = r"enter some comments"
_WINDOW = 2048  # how much of the end of the output the prompt detection looks at
# AES-GCM first: the appliance's choice among asyncssh's defaults, but OpenSSL does it in one call per
# packet where chacha20-poly1305 takes several Python-level calls, a third of a CLI round trip on both
# ends. The rest of the default list follows, so an appliance without GCM negotiates as before.
ENCRYPTION_ALGS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
                   "aes256-ctr", "aes192-ctr", "aes128-ctr")
SETTLE_AFTER_IDLE_S = 1.0  # a session idle this long gets a look at what arrived meanwhile before reuse

# A sub-prompt: the question line ends with the default in brackets, e.g. "... [N]> ".
_SUBPROMPT = re.compile(r"(?P<line>[^\r\n]*\[(?P<default>[^\]\r\n]*)\]> ?)$")
# A main prompt of the AsyncOS family (Netshot's driver regex, widened to the oxidized examples).
_MAIN_FAMILY = re.compile(
    r"(?:^|[\r\n])(?P<line>\((?:Cluster|Machine|Group) [^()\r\n]+\)> ?|\([A-Za-z0-9._-]+\)> ?"
    r"|[A-Za-z0-9][A-Za-z0-9._-]*> ?)$"
)
_BARE = re.compile(r"(?:^|[\r\n])(?P<line>> ?)$")
_LOGIN = re.compile(r"(?:^|[\r\n])(?P<line>[^\r\n]{1,200}?> ?)$")
_UNKNOWN = re.compile(r"^\s*(?:Unknown command\b.*|.*\bmissing feature key\b.*)$", re.MULTILINE)


def rejected(text: str) -> bool:
    """The appliance said ``Unknown command ...`` or ``... missing feature key ...`` (on a line of its own)."""
    # The substring tests spare the (backtracking) regex on the usual output, which has neither.
    return ("Unknown command" in text or "missing feature key" in text) and _UNKNOWN.search(text) is not None
_MODE = re.compile(r"^\((Cluster|Machine|Group) ")


class Secret(str):
    """An answer that must not appear in transcripts (a registration token, a passphrase)."""

    __slots__ = ()


class ExecResult(NamedTuple):
    exit_status: int | None
    output: str


@dataclass(frozen=True)
class Prompt:
    text: str  # as shown: "esa1.example.com> ", "[N]> ", or a whole question line ending in "[]> "
    main: bool
    default: str | None = None  # the value in the brackets of a sub-prompt


def classify(buffer: str, main_prompt: str) -> Prompt | None:
    """The prompt the appliance is waiting at, if the output ends with one."""
    if not buffer.rstrip(" ").endswith(">"):
        return None  # the cheap common case: output still flowing
    if main_prompt and buffer.endswith(main_prompt):
        start = len(buffer) - len(main_prompt)
        if start == 0 or buffer[start - 1] in "\r\n":
            return Prompt(main_prompt, True)
    tail = buffer[-_WINDOW:]
    if len(buffer) > _WINDOW and "\n" in tail:
        tail = tail[tail.index("\n") + 1:]  # start the window at a line boundary
    if m := _SUBPROMPT.search(tail):
        line = m.group("line")
        return Prompt(line[line.rfind("\r") + 1:], False, m.group("default"))
    if m := _MAIN_FAMILY.search(tail):
        return Prompt(m.group("line"), True)
    if m := _BARE.search(tail):
        return Prompt(m.group("line"), False)
    return None


def normalize(raw: str) -> str:
    """Terminal output as text: pager removed, carriage-return overwrites applied, LF line ends."""
    raw = raw.replace(PAGER, "")
    lines = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        if "\r" in line:
            # "\r<spaces>\r" is how AsyncOS erases the pager; later segments overwrite earlier ones
            out = ""
            for seg in line.split("\r"):
                out = seg + out[len(seg):]
            line = out
        lines.append(line.rstrip())
    return "\n".join(lines)


def mode_of(prompt: str) -> str:
    m = _MODE.match(prompt)
    return m.group(1).lower() if m else "standalone"


class _Shell:
    """The asyncio side: one SSH connection with one interactive PTY shell."""

    def __init__(self, conn: asyncssh.SSHClientConnection, proc: asyncssh.SSHClientProcess[str]) -> None:
        self.conn = conn
        self.proc = proc
        self.prompt = ""
        self.received = ""  # what the current wait has read so far (for error messages)
        self.last_used = time.monotonic()

    async def exchange(self, line: str | None, timeout: float) -> tuple[str, Prompt]:
        """Send ``line`` (if any), then read until the appliance waits at a prompt, answering the pager.

        One coroutine for both, so a round trip costs one run of the driver loop, and the transport is
        only ever written by the loop (asyncio transports are not thread-safe)."""
        if line is not None:
            self.proc.stdin.write(line)
        buf = ""
        pager_from = 0
        self.received = ""
        async with asyncio.timeout(timeout):
            while True:
                idx = buf.find(PAGER, pager_from)
                if idx >= 0:
                    pager_from = idx + len(PAGER)
                    self.proc.stdin.write(" ")  # any key; a space as Netshot and oxidized send
                    continue
                pager_from = max(pager_from, len(buf) - len(PAGER))
                prompt = classify(buf, self.prompt)
                if prompt is not None:
                    self.last_used = time.monotonic()
                    return buf[: len(buf) - len(prompt.text)], prompt
                data = await self.proc.stdout.read(65536)
                if not data:
                    raise ConnectionError("the appliance closed the session")
                buf += data
                self.received = buf

    @property
    def alive(self) -> bool:
        return not self.conn.is_closed() and not self.proc.stdout.at_eof()

    def close(self) -> None:
        self.conn.close()


class AsyncOSCli:
    """Synchronous AsyncOS CLI driver (one SSH session, reconnected on demand)."""

    def __init__(self, host: str, port: int = 22, username: str = "admin", password: str = "", *,
                 name: str = "appliance", timeout: float = 30.0, connect_timeout: float = 10.0,
                 connect_attempts: int = 3, host_trust: HostTrust | None = None,
                 term_size: tuple[int, int] = (511, 200),
                 transcript: Transcript | None = None, ssh_options: Mapping[str, Any] | None = None,
                 loop: DriverLoop | None = None) -> None:
        self.host, self.port = host, port
        self.username, self._password = username, password
        self.what = f"{name} CLI"
        self.endpoint = f"{host}:{port}"
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.connect_attempts = max(1, connect_attempts)
        # The host keys this endpoint may present; None: the ones the provisioned testbed recorded
        # (harness.trust registry), looked up at login. Never "unchecked".
        self.host_trust = host_trust
        self.name = name
        self.term_size = term_size  # wide, so AsyncOS does not wrap lines
        self.ssh_options = dict(ssh_options or {})
        self.transcript = transcript if transcript is not None else Transcript(self.what)
        self.transcript.add_credentials(username, password)
        self.banner = ""
        self._loop = loop or driver_loop()
        self._shell: _Shell | None = None
        self._lock = threading.RLock()

    # ---- public API ---------------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        """The main prompt as learned at login (re-learned when the cluster mode changes)."""
        return self._shell.prompt if self._shell else ""

    @property
    def mode(self) -> str:
        """standalone | machine | cluster | group, from the prompt."""
        return mode_of(self.prompt)

    @property
    def connected(self) -> bool:
        return self._shell is not None and self._shell.alive

    def connect(self) -> str:
        """Log in (if not yet) and return the login banner."""
        with self._lock:
            self._ensure()
            return self.banner

    def run(self, command: str, *, timeout: float | None = None) -> str:
        """Run a command that asks nothing; return its output up to the prompt (echo removed)."""
        return _strip_echo(self.converse(command, (), timeout=timeout), command).strip("\n")

    def converse(self, command: str, answers: Sequence[str] = (), *, optional: Mapping[str, str] | None = None,
                 timeout: float | None = None) -> str:
        """Run an interactive command, answering each sub-prompt with the next of ``answers``.

        ``optional`` maps a regex to an answer for questions that only some releases ask (searched in
        the question and the lines just before it); it is consulted before ``answers``. Returns the whole
        dialog as the appliance printed it, echoed answers included, up to the final main prompt.
        Raises CliError if the appliance rejects the command, asks more than the script answers (the
        session is then closed, which abandons the dialog without answering anything), or returns to
        the prompt with answers left over.
        """
        wait = timeout or self.timeout
        with self._lock:
            shell = self._ensure()
            for answer in answers:
                if isinstance(answer, Secret):
                    self.transcript.add_secret(str(answer))
            started, t0 = datetime.now(UTC), time.monotonic()
            raw: list[str] = []
            remaining = deque(answers)
            sent = command
            status = "ok"
            text: str | None = None  # the dialog as text, once it is complete
            try:
                line: str | None = command + "\n"
                while True:
                    out, prompt = self._exchange(shell, line, wait, sent, raw)
                    raw.append(out)
                    if prompt.main:
                        self._relearn(shell, prompt)
                        break
                    raw.append(prompt.text)
                    answer = self._pick(out + prompt.text, optional, remaining)
                    if answer is None:
                        self._drop()
                        status = "error: unanswered question"
                        raise self._error(command, normalize("".join(raw)),
                                          f"the appliance asked {prompt.text.strip()!r}, which the dialog does not "
                                          "answer (session closed to abandon the dialog)")
                    sent, line = answer, answer + "\n"
                text = normalize("".join(raw))
                if rejected(text):
                    status = "error: unknown command"
                    raise self._error(command, _strip_echo(text, command), "Unknown command or missing feature key")
                if remaining:
                    status = "error: answers left over"
                    raise self._error(command, text, f"the dialog ended with {len(remaining)} answer(s) unused")
                return text.rstrip("\n")
            except LabUnreachable as exc:
                status = f"error: {exc.cause}"
                raise
            finally:
                request = command + "".join(f"\n  answer: {a!r}" for a in answers)
                self.transcript.record("cli", self.what, self.endpoint, request,
                                       text if text is not None else normalize("".join(raw)), started,
                                       time.monotonic() - t0, status)

    def commit(self, comment: str = "", *, timeout: float | None = None) -> str:
        """``commit``: give the comment, keep a rollback copy where asked; returns the dialog text.

        "There is no data to commit." is returned as it is, not raised: it is what the appliance says.
        """
        # Both questions are optional: with nothing pending the appliance asks neither.
        return self.converse("commit", (), optional={COMMENT_QUESTION: comment, ROLLBACK_QUESTION: "Y"},
                             timeout=timeout)

    def exec(self, batch: str | Sequence[str], *, timeout: float | None = None, check: bool = False) -> ExecResult:
        """Run batch commands through SSH exec (no PTY), ``;``-joined; returns (exit status, output)."""
        command = batch if isinstance(batch, str) else "; ".join(batch)
        wait = timeout or self.timeout
        with self._lock:
            started, t0 = datetime.now(UTC), time.monotonic()
            output, status, note = "", None, "error"
            try:
                conn = self._ensure().conn
                status, output = self._call(self._exec(conn, command, wait), wait, command)
                note = f"exit {status}"
            except LabUnreachable as exc:
                note = f"error: {exc.cause}"
                raise
            finally:
                self.transcript.record("ssh-exec", self.what, self.endpoint, command, output, started,
                                       time.monotonic() - t0, note)
        if check and (status != 0 or rejected(output)):
            raise self._error(command, output, f"batch command failed (exit status {status})")
        return ExecResult(status, output)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __enter__(self) -> AsyncOSCli:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- connection -------------------------------------------------------------------------------
    def _ensure(self) -> _Shell:
        if self._shell is not None and time.monotonic() - self._shell.last_used > SETTLE_AFTER_IDLE_S:
            self._loop.settle()  # nobody ran the loop meanwhile: notice a close that arrived while idle
        if self._shell is not None and self._shell.alive:
            return self._shell
        if self._shell is not None:
            self._drop()  # closed while idle (the appliance's idle timeout, a keepalive failure): log in again
        last: BaseException | None = None
        deadline = time.monotonic() + self.connect_attempts * (self.connect_timeout + self.timeout)
        for attempt in range(self.connect_attempts):
            started, t0 = datetime.now(UTC), time.monotonic()
            try:
                shell, banner = self._call(self._open(), self.connect_timeout + self.timeout, "login")
            except (AuthenticationFailed, LabUnreachable) as exc:
                detail = exc.detail if isinstance(exc, AuthenticationFailed) else exc.cause
                self.transcript.record("cli", self.what, self.endpoint, f"(login as {self.username})", "", started,
                                       time.monotonic() - t0, f"error: {type(exc).__name__}: {detail}")
                if isinstance(exc, AuthenticationFailed):
                    raise
                last = exc
                if attempt + 1 < self.connect_attempts:
                    pause = min(0.2 * 2**attempt, 2.0, max(0.0, deadline - time.monotonic()))
                    threading.Event().wait(pause)  # bounded back-off between attempts, not a fixed delay
                continue
            self._shell, self.banner = shell, banner
            return shell
        assert last is not None
        raise last

    def _trusted(self) -> HostTrust:
        trust = self.host_trust or lookup(self.host, self.port)
        if trust is None or not trust.keys:
            raise HostKeyUnknown(self.name, self.endpoint, trust.testbed if trust else "PATH")
        return trust

    async def _connect(self, trust: HostTrust, options: dict[str, Any]) -> asyncssh.SSHClientConnection:
        """asyncssh.connect, accepting only the trusted host keys; a refusal names both fingerprints."""
        offered: list[asyncssh.SSHKey] = []

        class _Client(asyncssh.SSHClient):
            def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
                offered.append(key)  # called only for a key that is not among the trusted ones
                return False

        keys = [asyncssh.import_public_key(k) for k in trust.keys]
        # Only the recorded key types are negotiated: a server that also has an RSA key must show the
        # recorded ed25519 one, not pick the RSA one and be refused for it.
        algs = list(dict.fromkeys(a.decode() for k in keys for a in k.sig_algorithms))
        try:
            return await asyncssh.connect(self.host, self.port, known_hosts=(keys, [], []), client_factory=_Client,
                                          server_host_key_algs=algs, **options)
        except (asyncssh.HostKeyNotVerifiable, asyncssh.KeyExchangeFailed) as exc:
            if isinstance(exc, asyncssh.KeyExchangeFailed) and "host key" not in str(exc).lower():
                raise
            seen = (fingerprint(offered[0].export_public_key("openssh").decode()) if offered
                    else f"no key of the recorded type(s) ({exc.reason})")
            raise HostKeyMismatch(trust.device, self.endpoint, trust.fingerprints, seen) from None

    async def _open(self) -> tuple[_Shell, str]:
        trust = self._trusted()
        options: dict[str, Any] = {
            "username": self.username, "password": self._password,
            "client_keys": None, "agent_path": None, "config": None,  # only the testbed's credentials count
            "preferred_auth": "password,keyboard-interactive", "connect_timeout": self.connect_timeout,
            "login_timeout": self.connect_timeout,
            # Keepalives notice a connection that died while a scenario waits "a few minutes", so the
            # next call logs in again instead of writing into a dead socket.
            "keepalive_interval": 30, "keepalive_count_max": 3,
            "encryption_algs": ENCRYPTION_ALGS,
        }
        options.update(self.ssh_options)
        conn = await self._connect(trust, options)
        try:
            proc = await conn.create_process(term_type="vt100", term_size=self.term_size, encoding="utf-8",
                                             errors="replace")
            shell = _Shell(conn, proc)
            started, t0 = datetime.now(UTC), time.monotonic()
            banner = await self._learn_prompt(shell)
            self.transcript.record("cli", self.what, self.endpoint, f"(login as {self.username})",
                                   normalize(banner) + shell.prompt, started, time.monotonic() - t0,
                                   f"prompt {shell.prompt!r}")
            return shell, normalize(banner)
        except BaseException:
            conn.close()
            raise

    async def _learn_prompt(self, shell: _Shell) -> str:
        buf = ""
        async with asyncio.timeout(self.timeout):
            while True:
                if buf.rstrip(" ").endswith(">"):
                    if m := _SUBPROMPT.search(buf[-_WINDOW:]):
                        raise CliError("(login)", normalize(buf), f"the appliance asked {m.group('line')!r} at login")
                    if m := _LOGIN.search(buf[-_WINDOW:]):
                        line = m.group("line")
                        shell.prompt = line[line.rfind("\r") + 1:]
                        return buf[: len(buf) - len(shell.prompt)]
                data = await shell.proc.stdout.read(65536)
                if not data:
                    raise ConnectionError("the appliance closed the session at login")
                buf += data

    async def _exec(self, conn: asyncssh.SSHClientConnection, command: str, timeout: float) -> tuple[int | None, str]:
        proc = await conn.create_process(command, stderr=asyncssh.STDOUT, encoding="utf-8", errors="replace")
        # Why EOF on stdin: a batch has no one to answer questions; a command that asks one then
        # fails at once instead of waiting for the timeout.
        proc.stdin.write_eof()
        chunks: list[str] = []
        try:
            async with asyncio.timeout(timeout):
                while data := await proc.stdout.read(65536):
                    chunks.append(data)
                await proc.wait_closed()
        finally:
            proc.close()
        return proc.exit_status, normalize("".join(chunks)).strip("\n")

    def _error(self, command: str, output: str, reason: str) -> CliError:
        """A CliError whose texts are masked: exception messages reach logs and junit output."""
        return CliError(self.transcript.redact(command), self.transcript.redact(output), reason)

    def _call(self, coro: Any, timeout: float, doing: str) -> Any:
        """Run a coroutine on the driver loop, mapping transport faults to the harness's errors."""
        try:
            return self._loop.run(coro, timeout + 1.0)  # the coroutine's own timeout fires first
        except asyncssh.PermissionDenied as exc:
            raise AuthenticationFailed(self.what, self.endpoint, exc.reason) from exc
        except TimeoutError as exc:
            self._drop()
            raise DriverTimeout(self.what, self.endpoint, f"no answer within {timeout:.1f}s to {doing!r}") from exc
        except (OSError, asyncssh.Error, EOFError) as exc:
            self._drop()
            raise LabUnreachable(self.what, self.endpoint, f"{type(exc).__name__}: {exc} (during {doing!r})") from exc

    def _exchange(self, shell: _Shell, line: str | None, timeout: float, sent: str,
                  raw: list[str]) -> tuple[str, Prompt]:
        try:
            return self._call(shell.exchange(line, timeout), timeout, sent)
        except LabUnreachable as exc:
            so_far = self.transcript.redact(normalize("".join(raw) + shell.received))
            exc.cause = f"{exc.cause}; received so far:\n{so_far[-1500:]}"
            exc.args = (f"{exc.what} unreachable at {exc.endpoint}: {exc.cause}",)
            raise

    @staticmethod
    def _pick(question: str, optional: Mapping[str, str] | None, remaining: deque[str]) -> str | None:
        context = "\n".join(normalize(question).splitlines()[-4:])
        for pattern, answer in (optional or {}).items():
            if re.search(pattern, context, re.IGNORECASE):
                return answer
        return remaining.popleft() if remaining else None

    def _relearn(self, shell: _Shell, prompt: Prompt) -> None:
        if prompt.text != shell.prompt:
            shell.prompt = prompt.text  # the mode changed: (Cluster x)> after clustermode, and back

    def _drop(self) -> None:
        shell, self._shell = self._shell, None
        if shell is not None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (interpreter shutdown)
                self._loop.call_soon(shell.close)


def _strip_echo(text: str, command: str) -> str:
    first, _, rest = text.partition("\n")
    return rest if first.strip() == command.strip() else text
