"""``ctrlab sim up --integrated`` runs the lab clock through each appliance's events (``Lab._run_events``).

Lab time moves with the wall clock between the jumps: an appliance that was still busy at one look can be ready
at the next, with nothing left to jump to. Seen on a loaded machine (the lab process descheduled between the
two looks): ``--integrated: esa2: the cloud service to be ready did not happen`` and no lab.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from virtual_appliances.lab import Lab


@dataclass
class Busy:
    spec: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(name="esa2"))
    ready: bool = False


class ReadyByItself:
    """The appliance's time comes while the process is away: the next look finds nothing pending."""

    def __init__(self, appliance: Busy, pending: bool) -> None:
        self.appliance, self.pending = appliance, pending

    async def advance_to_next(self, owner: str) -> tuple[object | None, bool]:
        self.appliance.ready = not self.pending
        return None, True


def run_events(appliance: Busy, clock: ReadyByItself) -> None:
    lab = SimpleNamespace(fleet=[appliance], clock=clock)
    asyncio.run(Lab._run_events(lab, lambda a: not a.ready, "the cloud service to be ready"))  # type: ignore[arg-type]


def test_an_appliance_that_became_ready_between_two_looks_is_ready() -> None:
    appliance = Busy()
    run_events(appliance, ReadyByItself(appliance, pending=False))
    assert appliance.ready


def test_an_appliance_still_waiting_with_nothing_pending_is_an_error() -> None:
    appliance = Busy()
    with pytest.raises(RuntimeError, match="esa2: the cloud service to be ready did not happen"):
        run_events(appliance, ReadyByItself(appliance, pending=True))
