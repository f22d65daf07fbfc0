"""Waiting for what the documents call "after a few minutes": poll to a deadline, never sleep blindly.

``poll_until(probe, deadline, describe=...)`` calls ``probe`` until it returns an accepted value, waiting
the testbed's ``poll_interval`` between tries, and fails with a message that says what was awaited, for
how long, how often it looked and what it saw last. An ``AssertionError`` raised by the probe counts as
"not yet" (its message becomes the last observation); any other exception (e.g. ``LabUnreachable``)
ends the wait at once, because retrying a broken lab only hides the fault.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
_MAX_OBSERVED = 500
_NOTHING = object()


class PollTimeout(AssertionError):
    """The awaited state did not arrive within the deadline (a conformance failure, not a lab fault)."""

    def __init__(self, message: str, last: object, tries: int, waited: float) -> None:
        super().__init__(message)
        self.last = last
        self.tries = tries
        self.waited = waited


@dataclass(frozen=True)
class Deadline:
    seconds: float
    name: str | None = None

    def describe(self) -> str:
        return f"{self.seconds:g} s" + (f" (the testbed's {self.name!r} deadline)" if self.name else "")


def _show(value: object) -> str:
    text = str(value) if isinstance(value, BaseException) else repr(value)
    return text if len(text) <= _MAX_OBSERVED else text[:_MAX_OBSERVED] + f"... [{len(text) - _MAX_OBSERVED} more]"


def poll_until(probe: Callable[[], T], deadline: float | Deadline, *, describe: str, interval: float = 1.0,
               accept: Callable[[T], object] = bool, clock: Callable[[], float] = time.monotonic,
               wait: Callable[[float], object] | None = None) -> T:
    """Return the first value of ``probe()`` that ``accept`` approves (default: truthy).

    ``deadline`` is seconds (or a named :class:`Deadline`); ``probe`` runs at least once, even with a
    zero deadline, and once more at the deadline so a slow last interval is not lost.
    """
    limit = deadline if isinstance(deadline, Deadline) else Deadline(float(deadline))
    pause = wait or threading.Event().wait  # an interruptible wait: Ctrl-C is honoured at once
    started = clock()
    end = started + limit.seconds
    tries = 0
    last: object = _NOTHING
    while True:
        tries += 1
        try:
            value = probe()
        except AssertionError as exc:
            last = exc
        else:
            if accept(value):
                return value
            last = value
        now = clock()
        if now >= end:
            break
        pause(max(0.0, min(interval, end - now)))
    waited = clock() - started
    observed = "nothing (the probe never returned)" if last is _NOTHING else _show(last)
    raise PollTimeout(f"timed out after {waited:.1f} s waiting for {describe}: deadline {limit.describe()}, "
                      f"{tries} tries every {interval:g} s; last observed: {observed}", last, tries, waited)


class Poller:
    """``poll_until`` bound to a testbed's deadlines: ``poller(probe, "registration", describe=...)``."""

    def __init__(self, deadlines: Callable[[str], float], interval: float) -> None:
        self._deadline = deadlines
        self.interval = interval

    def __call__(self, probe: Callable[[], T], deadline: str | float, *, describe: str,
                 accept: Callable[[T], object] = bool, interval: float | None = None) -> T:
        limit = Deadline(self._deadline(deadline), deadline) if isinstance(deadline, str) else Deadline(float(deadline))
        return poll_until(probe, limit, describe=describe, interval=interval or self.interval, accept=accept)
