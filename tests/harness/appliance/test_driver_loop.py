"""The shared driver loop: callers run it themselves, threads share it, timeouts hold."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.appliance._aio import DriverLoop

WAIT_S = 0.3


async def _nap(seconds: float, tag: int) -> int:
    await asyncio.sleep(seconds)
    return tag


def test_a_call_returns_its_result_in_the_callers_thread() -> None:
    loop = DriverLoop()
    seen: list[int] = []

    async def where() -> int:
        seen.append(threading.get_ident())
        return 42

    assert loop.run(where(), 5) == 42
    assert seen == [threading.get_ident()], "the caller should have run the loop itself"


def test_threads_calling_at_once_all_finish_and_overlap() -> None:
    loop = DriverLoop()
    workers = 8
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda i: loop.run(_nap(WAIT_S, i), 10), range(workers)))
    elapsed = time.monotonic() - started
    assert results == list(range(workers))
    # Serialised, eight naps would take 8 x 0.3 s; sharing the loop they overlap.
    assert elapsed < workers * WAIT_S / 2, f"{workers} concurrent calls took {elapsed:.2f} s"


def test_a_rider_takes_over_the_loop_when_the_runner_is_done() -> None:
    loop = DriverLoop()
    with ThreadPoolExecutor(2) as pool:
        short = pool.submit(loop.run, _nap(0.05, 1), 10)
        long = pool.submit(loop.run, _nap(WAIT_S, 2), 10)
        assert short.result(5) == 1
        assert long.result(5) == 2  # someone ran the loop after the short call's runner returned


def test_a_call_that_overruns_its_timeout_raises_timeout_error() -> None:
    loop = DriverLoop()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"within 0\.2s"):
        loop.run(_nap(5, 0), 0.2)
    assert time.monotonic() - started < 2
    assert loop.run(_nap(0, 7), 5) == 7  # the loop is usable afterwards


def test_a_riding_call_that_overruns_its_timeout_raises_too() -> None:
    loop = DriverLoop()
    with ThreadPoolExecutor(2) as pool:
        runner = pool.submit(loop.run, _nap(1.0, 1), 10)
        rider = pool.submit(loop.run, _nap(5, 2), 0.2)
        with pytest.raises(TimeoutError):
            rider.result(5)
        assert runner.result(5) == 1


def test_a_call_from_inside_a_running_loop_is_refused() -> None:
    loop = DriverLoop()

    async def nested() -> None:
        loop.run(_nap(0, 0), 1)

    with pytest.raises(RuntimeError, match="running event loop"):
        asyncio.run(nested())
