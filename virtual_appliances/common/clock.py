"""Lab time: a simulated clock shared by every simulator of a lab, with a schedule of pending events.

Simulated time moves with the wall clock (``speed`` 1 by default) plus jumps the harness asks for. What
the documents say "takes a few minutes" is an event on the schedule, owned by an appliance name or by
``sse:<region>`` / ``ctr:<region>`` / ``lab``; ``advance_to_next(owner)`` jumps to that owner's next
event and waits (a bounded real time) until the work it triggers is done, so whatever the harness reads
next already shows it (trio's ``MockClock`` autojump and moto's managed state transitions are the
models). Two kinds of events:

- scheduled ones (``schedule`` / ``sleep``): a task waits for the time and then works; ``done`` marks
  the work finished, which is what a jump waits for;
- lazy ones, from ``add_source``: state compared against ``now()`` when it is read (a token's expiry,
  "the cloud service is busy"), so there is nothing to wait for once the time has come.

Network time-outs are never lab time: they are real seconds in the code that opens the connection, so
a loaded host (or a paused lab) cannot turn into simulated minutes.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Real seconds a jump waits for the work the fired event triggers: below the harness's 15 s read timeout
# of a control-plane call; an exchange still running then is reported (settled: false), not waited out.
JUMP_WAIT_S = 5.0

EventSource = Callable[[datetime], Iterable[tuple[str, str, datetime]]]
"""Lazy events: given now, yields ``(owner, what, at)`` for each state change still to come."""


@dataclass(eq=False)
class Pending:
    """One pending event: ``owner`` will see ``what`` happen at simulated time ``at``."""

    owner: str
    what: str
    at: datetime
    id: int = 0
    finished: asyncio.Event | None = field(default=None, repr=False)  # None: lazy, nothing to wait for

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "owner": self.owner, "what": self.what, "at": self.at.isoformat()}


class SimClock:
    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be > 0")
        self._speed = speed
        self._base_sim = start or datetime.now(UTC).replace(microsecond=0)
        self._base_real = time.monotonic()
        self._changed = asyncio.Event()
        self._scheduled: dict[int, Pending] = {}
        self._sources: list[EventSource] = []
        self._ids = itertools.count(1)

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value <= 0:
            raise ValueError("clock speed must be > 0")
        self._rebase()
        self._speed = value
        self._notify()

    def now(self) -> datetime:
        """Simulated time, timezone-aware UTC."""
        elapsed = (time.monotonic() - self._base_real) * self._speed
        return self._base_sim + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        """Jump the simulated time forward; sleepers whose deadline passed wake up."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._rebase()
        self._base_sim += timedelta(seconds=seconds)
        self._notify()
        return self.now()

    def real_seconds(self, sim_seconds: float) -> float:
        """How long ``sim_seconds`` of simulated time take on the wall clock at the current speed."""
        return max(0.0, sim_seconds / self._speed)

    # ---- the schedule -----------------------------------------------------------------------------
    def schedule(self, owner: str, what: str, delay: float) -> Pending:
        """An event ``delay`` simulated seconds from now, until ``done`` is called for it."""
        event = Pending(owner, what, self.now() + timedelta(seconds=max(0.0, delay)), next(self._ids),
                        asyncio.Event())
        self._scheduled[event.id] = event
        return event

    def done(self, event: Pending) -> None:
        """The work the event triggered is finished (or abandoned): it leaves the schedule."""
        self._scheduled.pop(event.id, None)
        if event.finished is not None:
            event.finished.set()

    def cancel_owner(self, owner: str) -> int:
        """Forget every scheduled event of ``owner`` (its tasks are cancelled by whoever runs them)."""
        gone = [e for e in self._scheduled.values() if e.owner == owner]
        for event in gone:
            self.done(event)
        return len(gone)

    def add_source(self, source: EventSource) -> None:
        self._sources.append(source)

    def pending(self, owner: str | None = None) -> list[Pending]:
        """Every pending event (of ``owner``), soonest first: scheduled ones, due or not, and lazy ones
        still in the future."""
        now = self.now()
        events = list(self._scheduled.values())
        for source in self._sources:
            events += [Pending(o, w, at) for o, w, at in source(now) if at > now]
        if owner is not None:
            events = [e for e in events if e.owner == owner]
        return sorted(events, key=lambda e: (e.at, e.id))

    async def wait(self, event: Pending) -> None:
        """Until simulated time reaches ``event.at`` (a jump wakes it at once)."""
        while True:
            remaining = (event.at - self.now()).total_seconds()
            if remaining <= 0:
                return
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), timeout=self.real_seconds(remaining))
            except TimeoutError:
                continue  # re-check: the time has (almost certainly) come

    async def sleep(self, sim_seconds: float, owner: str = "lab", what: str = "sleep") -> None:
        """Sleep for simulated seconds, as a pending event of ``owner``."""
        event = self.schedule(owner, what, sim_seconds)
        try:
            await self.wait(event)
        finally:
            self.done(event)

    async def advance_to_next(self, owner: str | None = None,
                              wait_s: float = JUMP_WAIT_S) -> tuple[Pending | None, bool]:
        """Jump to the next pending event of ``owner`` (any owner if None) and wait, at most ``wait_s``
        real seconds, until the work it triggers is done, and that of every other scheduled event the
        jump made due (whatever is read next shows all of them). Returns the event (None if nothing is
        pending) and whether the work finished in time."""
        events = self.pending(owner)
        if not events:
            return None, True
        event = events[0]
        ahead = (event.at - self.now()).total_seconds()
        if ahead > 0:
            self.advance(ahead)
        now = self.now()
        due = [e.finished for e in self._scheduled.values() if e.at <= now and e.finished is not None]
        if event.finished is not None:
            due.append(event.finished)
        try:
            await asyncio.wait_for(asyncio.gather(*(f.wait() for f in due)), timeout=wait_s)
        except TimeoutError:
            return event, False
        return event, True

    async def autojump(self, idle_s: float, cloud: tuple[str, ...] = ("sse:", "ctr:")) -> None:
        """Opt-in (``--autojump S``), for clients that wait as on real gear and never ask for jumps:
        every ``idle_s`` real seconds, lab time jumps to the next appliance event not yet due. Cloud
        events (token expiry) never fire this way: only an explicit jump passes them."""
        while True:
            await asyncio.sleep(idle_s)  # the period of the autojump, not a wait for a result
            now = self.now()
            ahead = [e for e in self.pending() if e.at > now and not e.owner.startswith(cloud)]
            if ahead:
                self.advance((ahead[0].at - now).total_seconds())

    def snapshot(self) -> dict[str, Any]:
        return {"now": self.now().isoformat(), "speed": self._speed,
                "pending": [e.public() for e in self.pending()]}

    def _rebase(self) -> None:
        self._base_sim = self.now()
        self._base_real = time.monotonic()

    def _notify(self) -> None:
        # Wake every sleeper so it re-checks its deadline, then arm a fresh event.
        self._changed.set()
        self._changed = asyncio.Event()
