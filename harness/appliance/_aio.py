"""One private asyncio loop shared by every asyncio-based driver, run by the threads that wait on it.

Step code is synchronous; asyncssh is asyncio-only. A loop per connection would need a thread each (too
many for a 100-appliance fleet), and a loop in a background thread costs a thread hop per call: the
wake-up through the loop's self-pipe and back is about a third of a CLI round trip. So the caller runs
the shared loop itself while it waits, and a call costs what raw asyncssh costs.

When several threads call at once (a fleet driven from a thread pool), one of them runs the loop (the
runner) and the others' coroutines ride on it; a runner whose own call is done hands the loop over to a
thread still waiting. Between calls nobody runs the loop: what arrives meanwhile waits in the socket
buffers, and :meth:`DriverLoop.settle` lets a driver look at it before it reuses a connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
HANDOVER_GRACE_S = 1.0  # a waiting thread gives up this long after the call's own timeout


async def _bounded(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    async with asyncio.timeout(timeout):
        return await coro


class DriverLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._runner = threading.Lock()  # held by the thread running the loop
        self._changed = threading.Condition()  # a call finished, or the runner let go of the loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop; cancel it and raise ``TimeoutError`` after ``timeout`` seconds."""
        if _loop_running_here():
            coro.close()
            raise RuntimeError("a driver call was made from a running event loop (it would deadlock)")
        bounded = _bounded(coro, timeout)
        if self._runner.acquire(blocking=False):
            try:
                return self._run_here(bounded, timeout)
            finally:
                self._let_go()
        return self._ride(bounded, timeout)

    def call_soon(self, callback: Any) -> None:
        """Schedule a plain callback (e.g. closing a connection) for the next time the loop runs."""
        self.loop.call_soon_threadsafe(callback)

    def settle(self) -> None:
        """Let the loop process what arrived while nobody ran it (a closed connection, say)."""
        self.run(asyncio.sleep(0), 5.0)

    def _run_here(self, bounded: Coroutine[Any, Any, T], timeout: float) -> T:
        try:
            return self.loop.run_until_complete(bounded)
        except TimeoutError:
            raise TimeoutError(f"driver operation did not finish within {timeout:.1f}s") from None

    def _ride(self, bounded: Coroutine[Any, Any, T], timeout: float) -> T:
        """Another thread runs the loop: submit, then wait for the result or for the loop to be free."""
        future = asyncio.run_coroutine_threadsafe(bounded, self.loop)
        future.add_done_callback(lambda _: self._notify())
        deadline = time.monotonic() + timeout + HANDOVER_GRACE_S
        while not future.done():
            if self._runner.acquire(blocking=False):  # the runner left: run the loop until ours is done
                try:
                    self.loop.run_until_complete(asyncio.wrap_future(future, loop=self.loop))
                except (TimeoutError, concurrent.futures.CancelledError):
                    pass  # the future holds the outcome
                finally:
                    self._let_go()
                break
            with self._changed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    future.cancel()
                    raise TimeoutError(f"driver operation did not finish within {timeout:.1f}s")
                if not future.done() and self._runner.locked():
                    self._changed.wait(remaining)
        try:
            return future.result()
        except TimeoutError:
            raise TimeoutError(f"driver operation did not finish within {timeout:.1f}s") from None

    def _let_go(self) -> None:
        with self._changed:  # release and notify under the condition: a waiter cannot miss it
            self._runner.release()
            self._changed.notify_all()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_shared: DriverLoop | None = None
_shared_pid = 0
_lock = threading.Lock()


def driver_loop() -> DriverLoop:
    """The process-wide loop (re-created in a forked child, where the parent's loop state is not ours)."""
    global _shared, _shared_pid
    with _lock:
        if _shared is None or _shared.loop.is_closed() or _shared_pid != os.getpid():
            _shared, _shared_pid = DriverLoop(), os.getpid()
        return _shared
