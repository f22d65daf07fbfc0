"""One private asyncio loop in a background thread, shared by every asyncio-based driver.

Step code is synchronous; asyncssh is asyncio-only. Rather than a loop per connection (a thread each,
too many for a 100-appliance fleet) every driver submits its coroutines to this loop and waits for the
result with a bound.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class DriverLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="ctrlab-drivers", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop; cancel it and raise ``TimeoutError`` after ``timeout`` seconds."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a driver call was made from the driver loop itself (it would deadlock)")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"driver operation did not finish within {timeout:.1f}s") from None

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()


_shared: DriverLoop | None = None
_shared_pid = 0
_lock = threading.Lock()


def driver_loop() -> DriverLoop:
    """The process-wide loop (re-created in a forked child, where the parent's thread does not exist)."""
    global _shared, _shared_pid
    with _lock:
        if _shared is None or not _shared.alive or _shared_pid != os.getpid():
            _shared, _shared_pid = DriverLoop(), os.getpid()
        return _shared
