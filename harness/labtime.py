"""Waiting for what the documents say takes time ("after a few minutes", registration, message tracking).

Lab time on a simulator moves with the wall clock and jumps only when the harness moves it: while the
awaited state has not arrived, :meth:`LabTime.poll` runs the lab to the next pending event of the leased
appliance (trio's MockClock autojump; moto's managed state transitions), so a documented minute costs a
round trip, and host load never turns into simulated minutes. Where nothing is pending, the lab is doing real
work (a connector exchange over the network) and the harness gives it a short real pause. On real gear time
passes by itself: the same call polls every ``poll_interval`` until the testbed's deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from .labcontrol import LabControl
from .testbed import Deadlines

T = TypeVar("T")
WORKING_PAUSE_S = 0.02  # a simulator with nothing pending is mid-exchange: look again soon


class TimedOut(AssertionError):
    """A poll reached its deadline; ``last`` is what was observed the last time."""

    def __init__(self, what: str, seconds: float, last: object) -> None:
        super().__init__(f"{what}: not within {seconds:.1f}s")
        self.last = last


class LabTime:
    def __init__(self, deadlines: Deadlines, control: LabControl) -> None:
        self.deadlines = deadlines
        self.control = control

    def of(self, deadline: str) -> float:
        return self.deadlines.get(deadline)

    def let_pass(self, owner: str) -> None:
        """"Navigate back to this page after some time": the appliance's next pending event happens."""
        self.control.run_to_next_event(owner)

    def poll(self, deadline: str, probe: Callable[[], T], done: Callable[[T], bool], what: str, *,
             owner: str, settle: bool = False) -> T:
        """Call ``probe`` until ``done(result)``, within the testbed's ``deadline`` (real seconds)."""
        seconds = self.of(deadline)
        end = time.monotonic() + seconds
        if settle:
            self.let_pass(owner)
        last = probe()
        while not done(last):
            left = end - time.monotonic()
            if left <= 0:
                raise TimedOut(what, seconds, last)
            fired = self.control.run_to_next_event(owner).fired if self.control.simulated_time else None
            if fired is None:
                pause = WORKING_PAUSE_S if self.control.simulated_time else self.deadlines.poll_interval
                threading.Event().wait(min(pause, left))  # bounded by the deadline, never a fixed sleep
            last = probe()
        return last

    def hold(self, deadline: str, probe: Callable[[], T], holds: Callable[[T], bool]) -> tuple[bool, T]:
        """Whether ``holds(probe())`` stays true for the whole deadline ("still does not ... after ...")."""
        seconds = self.of(deadline)
        if self.control.simulated_time:
            self.control.advance(seconds)  # the whole deadline of lab time passes; one look tells
            last = probe()
            return holds(last), last
        end = time.monotonic() + seconds
        while True:
            last = probe()
            if not holds(last):
                return False, last
            left = end - time.monotonic()
            if left <= 0:
                return True, last
            threading.Event().wait(min(self.deadlines.poll_interval, left))
