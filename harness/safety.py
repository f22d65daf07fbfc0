"""Safety on real gear: destructive scenarios are opt-in, and the appliance is put back as it was.

A scenario tagged ``@destructive`` (deregister, region switch, disable) runs on a non-simulator testbed
only with ``--allow-destructive``. Around it the harness records each appliance's cloud settings and
restores them afterwards: when the scenario passes, fails, errors, or the run is interrupted (Ctrl-C,
SIGTERM), with an ``atexit`` fallback for whatever is still pending.

How the settings are read and written is the drivers' business: they provide a
:class:`CloudSettingsKeeper` per appliance (over SSH: ``cloudserviceconfig`` / ``threatresponseconfig``)
by implementing the ``pytest_ctrlab_settings_keeper(lab, device)`` hook (``harness/hookspecs.py``).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)


@runtime_checkable
class CloudSettingsKeeper(Protocol):
    """Records and restores one appliance's cloud settings (Threat Response enabled, server/region,
    registration). ``snapshot`` must not change the appliance; ``restore`` must be idempotent."""

    name: str  # the device name, for messages

    def snapshot(self) -> object: ...

    def restore(self, snapshot: object) -> None: ...


class RestoreFailed(Exception):
    """An appliance could not be put back: it needs a human before the next run."""


class SnapshotFailed(Exception):
    """An appliance's settings could not be recorded, so the destructive scenario was not run."""


@dataclass
class _Pending:
    keeper: CloudSettingsKeeper
    snapshot: object
    context: str


@dataclass
class SafetyNet:
    """Pending restores of this process, restored in order by :meth:`guard` or, failing that, at exit."""

    pending: list[_Pending] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _atexit: bool = False

    @contextlib.contextmanager
    def guard(self, keepers: Sequence[CloudSettingsKeeper], context: str) -> Iterator[None]:
        """Snapshot every keeper's appliance, run the body, restore them all (also on failure/interrupt)."""
        taken: list[_Pending] = []
        for keeper in keepers:
            try:
                taken.append(_Pending(keeper, keeper.snapshot(), context))
            except Exception as exc:
                raise SnapshotFailed(f"could not record {keeper.name}'s cloud settings before {context}; the "
                                     f"scenario was not run (nothing was changed): {exc}") from exc
        with self._lock:
            self.pending.extend(taken)
            self._register_atexit()
        try:
            yield
        finally:
            self._restore(taken)

    def _register_atexit(self) -> None:
        if not self._atexit:
            atexit.register(self.restore_pending)
            self._atexit = True

    def _restore(self, entries: Sequence[_Pending]) -> None:
        failures: list[str] = []
        with deferred_signals():  # a second Ctrl-C must not cut a restore in half
            for entry in reversed(entries):
                try:
                    entry.keeper.restore(entry.snapshot)
                except BaseException as exc:
                    failures.append(f"{entry.keeper.name}: {type(exc).__name__}: {exc} (recorded settings: "
                                    f"{entry.snapshot!r})")
                    log.error("restore of %s after %s failed", entry.keeper.name, entry.context, exc_info=True)
                else:
                    with self._lock:
                        if entry in self.pending:
                            self.pending.remove(entry)
        if failures:
            raise RestoreFailed(f"could not restore the cloud settings after {entries[0].context}; restore by hand "
                                "before the next run:\n  " + "\n  ".join(failures))

    def restore_pending(self) -> None:
        """Last resort (``atexit``): restore whatever a killed scenario left pending."""
        with self._lock:
            entries = list(self.pending)
        if entries:
            log.warning("restoring %d appliance(s) left pending by an interrupted run", len(entries))
            with contextlib.suppress(RestoreFailed):
                self._restore(entries)


NET = SafetyNet()


# ---- signals ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def deferred_signals(signals: Sequence[int] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Hold SIGINT/SIGTERM while the body runs and deliver them after it (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, remember) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            signal.raise_signal(received[0])


def install_termination_handlers() -> Callable[[], None]:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt, so pytest's teardown (and the restores) run as for
    Ctrl-C. Returns the function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: FrameType | None) -> Any:
        raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")

    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            previous[sig] = signal.signal(sig, interrupt)

    def uninstall() -> None:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, handler)

    return uninstall
