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
import sys
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


def describe(keeper: CloudSettingsKeeper, snapshot: object) -> str:
    """What the appliance must be put back to, in words a lab engineer can act on."""
    how = getattr(keeper, "describe", None)
    try:
        return str(how(snapshot)) if callable(how) else repr(snapshot)
    except Exception:
        return repr(snapshot)


def _one_line(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:300]}"


@dataclass
class SafetyNet:
    """Pending restores of this process, restored in order by :meth:`guard` or, failing that, at exit.

    A restore is tried once: a failed one is not retried at exit (against a dead lab that only multiplies
    the noise); it is listed in :attr:`unrestored`, one line per appliance naming what to put back by hand.
    """

    pending: list[_Pending] = field(default_factory=list)
    unrestored: list[str] = field(default_factory=list)  # one line per appliance, for the end of the run
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _atexit: bool = False

    @contextlib.contextmanager
    def guard(self, keepers: Sequence[CloudSettingsKeeper], context: str,
              raise_on_failure: Callable[[], bool] = lambda: True) -> Iterator[None]:
        """Snapshot every keeper's appliance, run the body, restore them all (also on failure/interrupt).

        ``raise_on_failure()`` says, once the body is over, whether a failed restore raises RestoreFailed
        (a teardown error) or is only listed in :attr:`unrestored` (the run was interrupted: an exception
        now would become a traceback in pytest's session teardown)."""
        taken: list[_Pending] = []
        for keeper in keepers:
            try:
                taken.append(_Pending(keeper, keeper.snapshot(), context))
            except Exception as exc:
                raise SnapshotFailed(f"could not record {keeper.name}'s settings (cloud settings, remediation "
                                     f"profile, modules) before {context}; the scenario was not run (nothing was "
                                     f"changed): {exc}") from exc
        with self._lock:
            self.pending.extend(taken)
            self._register_atexit()
        try:
            yield
        finally:
            failures = self._restore(taken)
            if failures and raise_on_failure():
                raise RestoreFailed(f"could not restore the settings after {context}; restore by hand before the "
                                    "next run:\n  " + "\n  ".join(failures))

    def _register_atexit(self) -> None:
        if not self._atexit:
            atexit.register(self.restore_pending)
            self._atexit = True

    def _restore(self, entries: Sequence[_Pending]) -> list[str]:
        """Restore each entry once; the lines of those that failed (also kept in :attr:`unrestored`)."""
        failures: list[str] = []
        with deferred_signals():  # a second Ctrl-C must not cut a restore in half
            for entry in reversed(entries):
                try:
                    entry.keeper.restore(entry.snapshot)
                except BaseException as exc:
                    line = (f"{entry.keeper.name} NOT restored after {entry.context} ({_one_line(exc)}): restore by "
                            f"hand: {describe(entry.keeper, entry.snapshot)}")
                    failures.append(line)
                    log.error("%s", line)  # one line: no traceback, whatever the driver raised
                with self._lock:  # tried once: a dead lab is not asked again at exit
                    if entry in self.pending:
                        self.pending.remove(entry)
        with self._lock:
            self.unrestored.extend(failures)
        return failures

    def restore_pending(self) -> None:
        """Last resort (``atexit``): restore whatever a killed scenario left pending, then name, one line
        per appliance, what is still not restored."""
        with self._lock:
            entries = list(self.pending)
        if entries:
            log.warning("restoring %d appliance(s) left pending by an interrupted run", len(entries))
            failures = self._restore(entries)
            for line in failures:
                print(f"ctrlab: {line}", file=sys.__stderr__, flush=True)

    def take_unrestored(self) -> list[str]:
        """The unrestored lines not shown yet (the end-of-run summary shows each once)."""
        with self._lock:
            lines, self.unrestored = self.unrestored, []
        return lines


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
