"""An expect engine over the serial console (vrnetlab's ``bootstrap_spin`` as asyncio).

Every wait reads with a deadline; nothing sleeps. Two clocks run during a wait: the step's own
deadline, and the console's silence (no byte from the guest). Long silence raises
:class:`ConsoleSilent`, which the bootstrap answers by resetting the VM (a bounded number of times).
"""

from __future__ import annotations

import asyncio
import codecs
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .masking import MaskedStream, Masker

TAIL_CHARS = 1500  # how much of the console an error message quotes
READ_SIZE = 4096
MAX_BUFFER = 65536


class BootstrapError(Exception):
    """A bootstrap step failed; the message names the step and quotes the last console lines."""

    def __init__(self, step: str, reason: str, tail: str = "") -> None:
        self.step, self.reason, self.tail = step, reason, tail
        text = f"bootstrap step {step!r} failed: {reason}"
        if tail.strip():
            text += "\n--- last console lines ---\n" + tail.rstrip() + "\n---"
        super().__init__(text)


class ConsoleSilent(BootstrapError):
    """The guest printed nothing for too long (hung boot): the caller may reset the VM."""


class ConsoleClosed(BootstrapError):
    """The console socket reached EOF (qemu exited, or the fake console went away)."""


class SerialConsole:
    """The guest's first serial port, as a qemu ``-chardev socket`` we are connected to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: MaskedStream | None) -> None:
        self._reader, self._writer, self._log = reader, writer, log
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    @classmethod
    async def open_unix(cls, path: str, log: MaskedStream | None, timeout: float = 10.0) -> SerialConsole:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path), timeout)
        return cls(reader, writer, log)

    async def read(self, timeout: float) -> str | None:
        """Whatever the guest printed within ``timeout`` ("" if nothing); None at EOF."""
        try:
            data = await asyncio.wait_for(self._reader.read(READ_SIZE), max(timeout, 0.0))
        except TimeoutError:
            return ""
        if not data:
            return None
        text = self._decoder.decode(data)
        if self._log is not None:
            self._log.write(text)
        return text

    async def write(self, text: str, timeout: float = 10.0) -> None:
        self._writer.write(text.encode())
        await asyncio.wait_for(self._writer.drain(), timeout)

    def close(self) -> None:
        self._writer.close()


@dataclass
class Match:
    index: int  # which of the patterns matched
    match: re.Match[str]
    before: str  # console text from the last consumed point up to the match's start


class Expect:
    """Reads the console into a buffer and waits, to a deadline, for one of several patterns."""

    def __init__(self, console: SerialConsole, masker: Masker, *, silence_timeout: float = 300.0,
                 wake_interval: float = 10.0, wake: str = "\r") -> None:
        self.console = console
        self.masker = masker
        self.silence_timeout = silence_timeout
        self.wake_interval = wake_interval
        self.wake = wake
        self.buffer = ""  # received and not yet consumed by a match
        self._tail = ""  # the last TAIL_CHARS received, for error messages
        self.last_output = time.monotonic()

    def tail(self, lines: int = 25) -> str:
        text = self._tail.replace("\r\n", "\n").replace("\r", "\n")
        return self.masker("\n".join(text.split("\n")[-lines:]))

    def reset(self) -> None:
        """Forget unconsumed output (after a VM reset) and restart the silence clock."""
        self.buffer = ""
        self.last_output = time.monotonic()

    async def send(self, text: str) -> None:
        await self.console.write(text)

    async def expect(self, patterns: Sequence[re.Pattern[str]], step: str, timeout: float, *,
                     wake: bool = False, settle: float = 0.0) -> Match:
        """Wait until the buffer matches one of ``patterns`` (first listed wins).

        ``wake``: send the wake string (a bare CR) each ``wake_interval`` of silence, to get a
        login prompt printed again. ``settle``: after a match, wait that long for more output
        and re-check, for prompts that could be a prefix of a longer text (the banner).
        Raises BootstrapError on the deadline, ConsoleSilent on too long a silence, ConsoleClosed at EOF.
        """
        deadline = time.monotonic() + timeout
        last_wake = time.monotonic()
        while True:
            found = self._search(patterns)
            if found is not None and settle > 0:
                more = await self._read(min(settle, max(0.0, deadline - time.monotonic())), step)
                if more:
                    continue  # more text came: the match may not be the end of the output
            if found is not None:
                index, match = found
                before = self.buffer[: match.start()]
                self.buffer = self.buffer[match.end():]
                return Match(index, match, before)
            now = time.monotonic()
            if now >= deadline:
                raise BootstrapError(step, f"no expected console output within {timeout:g} s (waiting for "
                                     f"{' | '.join(p.pattern for p in patterns)})", self.tail())
            if now - self.last_output >= self.silence_timeout:
                raise ConsoleSilent(step, f"the console stayed silent for {self.silence_timeout:g} s", self.tail())
            if wake and now - max(last_wake, self.last_output) >= self.wake_interval:
                last_wake = now
                await self.send(self.wake)
            # Read until whichever clock runs out first; a read returns as soon as anything arrives.
            wait = min(deadline, self.last_output + self.silence_timeout) - now
            if wake:
                wait = min(wait, max(last_wake, self.last_output) + self.wake_interval - now)
            await self._read(max(wait, 0.01), step)

    async def _read(self, timeout: float, step: str) -> str:
        text = await self.console.read(timeout)
        if text is None:
            raise ConsoleClosed(step, "the console closed (did qemu exit?)", self.tail())
        if text:
            self.last_output = time.monotonic()
            # Prompts are matched at the end of the buffer: megabytes of boot noise need not be kept.
            self.buffer = (self.buffer + text)[-MAX_BUFFER:]
            self._tail = (self._tail + text)[-TAIL_CHARS:]
        return text

    def _search(self, patterns: Sequence[re.Pattern[str]]) -> tuple[int, re.Match[str]] | None:
        for index, pattern in enumerate(patterns):
            if match := pattern.search(self.buffer):
                return index, match
        return None
