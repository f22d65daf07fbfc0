"""The day-0 bootstrap: log in on the serial console and run the dialog table (dialogs.py).

Restart on silence is vrnetlab's: when the guest prints nothing for ``silence_timeout`` seconds the VM
is reset through the qemu monitor and the bootstrap starts again from the login, at most
``max_restarts`` times. Any other failure is final and names the step and the last console lines.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .dialogs import Answer, DialogTable, Step, compile_pattern
from .expect import BootstrapError, ConsoleSilent, Expect, Match

log = logging.getLogger("c100v.bootstrap")

LOGIN = re.compile(r"(?:^|[\r\n])[^\r\n]*login: ?$")
PASSWORD = re.compile(r"(?:^|[\r\n])[^\r\n]*[Pp]assword: ?$")
LOGIN_REFUSED = re.compile(r"Login incorrect|Authentication failed|Permission denied", re.IGNORECASE)
# A main prompt: a line ending in "> " with no brackets ("[Y]> " is a question), something before ">".
MAIN_PROMPT = re.compile(r"(?:^|[\r\n])(?P<prompt>[^\r\n\[\]]*[^\s\[\]]> ?)$")
SUB_PROMPT = re.compile(r"(?:^|[\r\n])(?P<line>[^\r\n]*\[(?P<default>[^\]\r\n]*)\]> ?)$")
PAGER = re.compile(r"-Press Any Key For More-")
UNKNOWN = re.compile(r"Unknown command|missing feature key", re.IGNORECASE)

BANNER_SETTLE_S = 0.5  # quiet time that tells the end of the login banner from a ">" inside it
PROMPT_SETTLE_S = 0.5  # quiet time after a login or password prompt: a crossed wake CR's prompt comes first
LOGIN_ATTEMPTS = 3  # times the login dialogue is tried before it is reported as refused


@dataclass(frozen=True)
class GuestNetwork:
    """What the bootstrap configures: qemu user networking's fixed guest side, plus the hostname."""

    hostname: str
    ip: str = "10.0.2.15"
    prefix: int = 24
    gateway: str = "10.0.2.2"
    ssh_port: int = 22
    https_port: int = 443
    api_port: int = 6443
    smtp_port: int = 25

    @property
    def netmask(self) -> str:
        bits = (0xFFFFFFFF << (32 - self.prefix)) & 0xFFFFFFFF
        return ".".join(str((bits >> s) & 0xFF) for s in (24, 16, 8, 0))


class Bootstrapper:
    def __init__(self, expect: Expect, table: DialogTable, network: GuestNetwork, username: str, password: str, *,
                 restart: Callable[[], Awaitable[None]], max_restarts: int = 2, login_timeout: float = 900.0) -> None:
        self.expect = expect
        self.table = table
        self.username, self._password = username, password
        self.restart = restart
        self.max_restarts = max_restarts
        self.login_timeout = login_timeout
        self.values = {"hostname": network.hostname, "ip": network.ip, "prefix": str(network.prefix),
                       "netmask": network.netmask, "gateway": network.gateway, "ssh_port": str(network.ssh_port),
                       "https_port": str(network.https_port), "api_port": str(network.api_port),
                       "smtp_port": str(network.smtp_port), "username": username, "password": password}
        self.prompt = ""  # the main prompt, learned at login, updated after every step
        self.restarts = 0

    async def run(self, deadline: float) -> str:
        """Log in and run every step before ``deadline`` (monotonic); returns the final main prompt."""
        while True:
            try:
                await self._login(deadline)
                for step in self.table.steps:
                    await self._step(step, deadline)
                return self.prompt
            except ConsoleSilent as exc:
                if self.restarts >= self.max_restarts:
                    raise BootstrapError(exc.step, f"{exc.reason}; gave up after {self.restarts} VM restart(s)",
                                         exc.tail) from None
                self.restarts += 1
                log.warning("step %s: console silent for %g s: resetting the VM (restart %d of %d)", exc.step,
                            self.expect.silence_timeout, self.restarts, self.max_restarts)
                await self.restart()
                self.expect.reset()

    # ---- login -----------------------------------------------------------------------------------
    async def _login(self, deadline: float) -> None:
        """Type the username and password at the login prompt.

        A wake CR can cross a login prompt on the wire (a slow guest prints it just as the silence timer
        fires); the guest then prints a second prompt, possibly after the username went out. Each wait
        therefore settles (a prompt counts only once nothing follows it for a moment), a login prompt
        after the username means "type it again", and a refused login starts the dialogue over, a bounded
        number of times, before it is reported as a wrong password."""
        step = "login"
        log.info("waiting for the login prompt (sending CR after %g s of silence)", self.expect.wake_interval)
        await self.expect.expect([LOGIN], step, self._left(deadline, self.login_timeout, step), wake=True,
                                 settle=PROMPT_SETTLE_S)
        log.info("logging in as %s", self.username)
        for _ in range(LOGIN_ATTEMPTS):
            await self.expect.send(self.username + "\r")
            got = await self.expect.expect([PASSWORD, LOGIN], step, self._left(deadline, 60, step),
                                           settle=PROMPT_SETTLE_S)
            if got.index == 1:
                continue  # the prompt came back: type the username again
            await self.expect.send(self._password + "\r")
            got = await self.expect.expect([LOGIN_REFUSED, LOGIN, SUB_PROMPT, MAIN_PROMPT], step,
                                           self._left(deadline, 120, step), settle=BANNER_SETTLE_S)
            if got.index == 0:
                # "Login incorrect" is followed by a new login prompt: wait for it, then start over
                await self.expect.expect([LOGIN], step, self._left(deadline, 60, step), settle=PROMPT_SETTLE_S)
                continue
            if got.index == 1:
                continue
            if got.index == 2:
                # A question right after login (first-login wizard, forced password change): answer it by table.
                login_step = Step("login", "", self.table.login_answers)
                await self._answer_loop(login_step, deadline, first=got, sent=self._password)
            else:
                self.prompt = got.match.group("prompt")
            log.info("logged in; main prompt %r", self.prompt)
            return
        raise BootstrapError(step, f"the appliance refused the login as {self.username!r} {LOGIN_ATTEMPTS} times "
                             "(wrong password? the first-boot default is admin/ironport)", self.expect.tail())

    # ---- one command of the table ------------------------------------------------------------------
    async def _step(self, step: Step, deadline: float) -> None:
        command = step.command.format(**self.values)
        log.info("step %s: %s", step.name, command)
        await self.expect.send(command + "\r")
        output = await self._answer_loop(step, deadline, first=None, sent=command)
        if UNKNOWN.search(output):
            raise BootstrapError(step.name, f"the appliance does not know {command!r} (Unknown command or missing "
                                 "feature key): adapt the dialog table to this release", self.expect.tail())
        if step.expect_output and not compile_pattern(step.expect_output).search(output):
            raise BootstrapError(step.name, f"the output does not show /{step.expect_output}/", self.expect.tail())
        if step.expect_prompt:
            wanted = step.expect_prompt.format(**self.values)
            if wanted not in self.prompt:
                raise BootstrapError(step.name, f"the prompt is {self.prompt!r}; expected it to show {wanted!r}",
                                     self.expect.tail())

    async def _answer_loop(self, step: Step, deadline: float, first: Match | None, sent: str) -> str:
        """Answer questions by the step's rules until the main prompt; returns the step's output."""
        started = time.monotonic()
        asked: dict[str, int] = {}
        uses: dict[int, int] = {}
        output: list[str] = []
        got = first
        while True:
            if got is None:
                left = min(step.timeout - (time.monotonic() - started), deadline - time.monotonic())
                if left <= 0:
                    raise BootstrapError(step.name, f"did not finish within {step.timeout:g} s", self.expect.tail())
                got = await self.expect.expect([PAGER, SUB_PROMPT, MAIN_PROMPT], step.name, left)
            text, index, match = got.before + got.match.group(0), got.index, got.match
            got = None
            output.append(text)
            if index == 0:
                await self.expect.send(" ")  # the pager wants any key
                continue
            if index == 2:
                self.prompt = match.group("prompt")
                return "".join(output)
            question = _strip_echo(text, sent)
            key = " / ".join(_last_lines(question, 2))
            asked[key] = asked.get(key, 0) + 1
            if asked[key] > step.max_repeats:
                raise BootstrapError(step.name, f"the question {key!r} came {asked[key]} "
                                     f"times (more than {step.max_repeats}): a dialog loop", self.expect.tail())
            answer = self._answer(step, question, uses)
            await self.expect.send(answer + "\r")
            sent = answer

    def _answer(self, step: Step, question: str, uses: dict[int, int]) -> str:
        rule_index, rule = _find_rule(step.answers, question)
        if rule is None:
            log.info("step %s: no rule for %r: taking the default", step.name, _last_lines(question, 2))
            return ""
        occurrence = uses.get(rule_index, 0)
        uses[rule_index] = occurrence + 1
        return rule.pick(occurrence).format(**self.values)

    def _left(self, deadline: float, limit: float, step: str) -> float:
        left = min(limit, deadline - time.monotonic())
        if left <= 0:
            raise BootstrapError(step, "the boot deadline passed", self.expect.tail())
        return left


def _find_rule(rules: list[Answer], question: str) -> tuple[int, Answer | None]:
    for index, rule in enumerate(rules):
        if compile_pattern(rule.pattern).search(question):
            return index, rule
    return -1, None


def _strip_echo(text: str, sent: str) -> str:
    """The question text without the guest's echo of our previous answer (its first line)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].strip() in (sent.strip(), ""):
        lines = lines[1:]
    return "\n".join(lines)


def _last_lines(text: str, count: int) -> list[str]:
    lines = [" ".join(line.split()) for line in text.split("\n") if line.strip()]
    return lines[-count:] or [""]
