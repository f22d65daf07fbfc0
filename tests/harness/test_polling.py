"""poll_until: waits to a deadline between tries, and says what it waited for when it gives up."""

from __future__ import annotations

import itertools
import time

import pytest

from harness.errors import LabUnreachable
from harness.polling import Deadline, Poller, PollTimeout, poll_until


class FakeClock:
    """Deterministic time: each wait advances the clock instead of sleeping."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_returns_the_first_accepted_value() -> None:
    values = iter(["busy", "busy", "Registered"])
    clock = FakeClock()
    assert poll_until(lambda: next(values), 60, describe="registration", interval=5, accept=lambda v: v == "Registered",
                      clock=clock, wait=clock.wait) == "Registered"
    assert clock.waits == [5, 5]


def test_timeout_message_says_what_how_long_and_last_value() -> None:
    clock = FakeClock()
    counter = itertools.count()
    with pytest.raises(PollTimeout) as info:
        poll_until(lambda: f"status {next(counter)}", Deadline(12, "registration"), describe="the status 'Registered'",
                   interval=5, accept=lambda v: False, clock=clock, wait=clock.wait)
    message = str(info.value)
    assert message == ("timed out after 12.0 s waiting for the status 'Registered': deadline 12 s (the testbed's "
                       "'registration' deadline), 4 tries every 5 s; last observed: 'status 3'")
    assert clock.waits == [5, 5, 2]  # never waits past the deadline
    assert isinstance(info.value, AssertionError) and info.value.last == "status 3" and info.value.tries == 4


def test_an_assertion_in_the_probe_means_not_yet() -> None:
    clock = FakeClock()

    def probe() -> str:
        raise AssertionError("the page still says busy")

    with pytest.raises(PollTimeout, match=r"last observed: the page still says busy$"):
        poll_until(probe, 1, describe="the Register button", interval=0.5, clock=clock, wait=clock.wait)


def test_a_lab_fault_ends_the_wait_at_once() -> None:
    clock = FakeClock()
    calls = 0

    def probe() -> bool:
        nonlocal calls
        calls += 1
        raise LabUnreachable("esa1 CLI", "127.0.0.1:22", "connection refused")

    with pytest.raises(LabUnreachable):
        poll_until(probe, 60, describe="anything", interval=1, clock=clock, wait=clock.wait)
    assert calls == 1 and clock.waits == []


def test_zero_deadline_still_tries_once() -> None:
    assert poll_until(lambda: 42, 0, describe="x", interval=1) == 42


def test_long_observations_are_cut() -> None:
    clock = FakeClock()
    with pytest.raises(PollTimeout) as info:
        poll_until(lambda: "x" * 2000, 1, describe="y", interval=1, accept=lambda v: False, clock=clock,
                   wait=clock.wait)
    assert len(str(info.value)) < 800 and "more]" in str(info.value)


def test_poller_uses_the_testbed_deadlines_and_interval() -> None:
    poller = Poller({"mail_tracked": 0.2}.__getitem__, interval=0.02)
    started = time.monotonic()
    with pytest.raises(PollTimeout, match=r"the testbed's 'mail_tracked' deadline\), \d+ tries every 0.02 s"):
        poller(lambda: None, "mail_tracked", describe="the message in Message Tracking")
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 2.0
    assert poller(lambda: "ok", 1.5, describe="x") == "ok"
