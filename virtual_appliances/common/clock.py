"""A simulated clock shared by every simulator of a lab.

The documents say "wait a few minutes"; the lab runs its clock ``speed`` times faster than the wall
clock and can be advanced on demand, so a suite waits milliseconds. State machines compare
timestamps against ``now()`` lazily, so advancing the clock needs no background work.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class SimClock:
    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be > 0")
        self._speed = speed
        self._base_sim = start or datetime.now(UTC).replace(microsecond=0)
        self._base_real = time.monotonic()
        self._changed = asyncio.Event()

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

    async def sleep(self, sim_seconds: float) -> None:
        """Sleep for simulated seconds; returns early if the clock is advanced past the deadline."""
        deadline = self.now() + timedelta(seconds=sim_seconds)
        while True:
            remaining = (deadline - self.now()).total_seconds()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=self.real_seconds(remaining))
            except TimeoutError:
                return

    def _rebase(self) -> None:
        self._base_sim = self.now()
        self._base_real = time.monotonic()

    def _notify(self) -> None:
        # Wake every sleeper so it re-checks its deadline, then arm a fresh event.
        self._changed.set()
        self._changed = asyncio.Event()
