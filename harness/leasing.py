"""Leasing appliances to scenarios: one scenario drives one appliance at a time, across pytest-xdist workers too.

Within one process a set of leased names suffices. With pytest-xdist the workers share one lab
(``lease_dir`` set), so a lease is also an exclusive ``flock`` on ``<lease_dir>/<device>.lock``, held for the
scenario. A scenario that changes what every appliance sees (a step marked lab-wide where it is defined:
firewall, proxy, DNS, SSE Cloud Services) holds ``lab.lock`` exclusively; every other one holds it shared
(``gate.lock`` keeps the exclusive one from waiting for ever, :meth:`Leases._lock_lab`).
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .facts import SELF_NAME, SSE_DEVICE_TYPE
from .testbed import Device

LEASE_WAIT_S = 900.0  # how long a scenario waits for an appliance (or the lab) other xdist workers hold
LEASE_POLL_S = 0.02  # a poll for an appliance tries each candidate's lock file
LAB_POLL_S = 0.005  # one flock call: a hand-over of the lab between workers waits at most this


@dataclass(frozen=True)
class Appliance:
    """One appliance of the testbed, as a scenario holds it: its name and its testbed entry."""

    name: str
    spec: Device

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def hostname(self) -> str:
        return self.spec.hostname

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def username(self) -> str:
        return self.spec.username

    @property
    def password(self) -> str:
        return self.spec.password

    @property
    def shortname(self) -> str:
        return self.hostname.split(".", 1)[0]

    @property
    def short_version(self) -> str:
        return self.version.split("-", 1)[0]

    @property
    def device_type(self) -> str:
        """How SSE types it (VER-1)."""
        return SSE_DEVICE_TYPE.get(self.kind, "ESA")

    @property
    def product(self) -> str:
        """How the appliance names itself in cloud service messages."""
        return SELF_NAME.get(self.kind, SELF_NAME["esa"])

    def has(self, role: str) -> bool:
        """Whether the testbed says how to reach this interface (cli, gui, api, smtp)."""
        return getattr(self.spec.connections, role) is not None

    def endpoint(self, role: str) -> tuple[str, int]:
        found = self.spec.connections.endpoints().get(role)
        if found is None:
            raise LookupError(f"the testbed gives no {role} connection for {self.name}")
        return found


def _unlock(handle: IO[str] | None) -> None:
    if handle is not None:
        with contextlib.suppress(OSError, ValueError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class Leases:
    def __init__(self, devices: Mapping[str, Device], lease_dir: Path | None = None, worker_index: int = 0) -> None:
        self.appliances = {name: Appliance(name, spec) for name, spec in devices.items()}
        self.lease_dir = lease_dir
        self.worker_index = worker_index
        self._lock = threading.Lock()
        self.leased: set[str] = set()

    @contextmanager
    def lease(self, kind: str = "esa", lab_wide: bool = False) -> Iterator[Appliance]:
        """The first free appliance of ``kind`` for one scenario."""
        lab_lock = self._lock_lab(lab_wide) if self.lease_dir is not None else None
        try:
            appliance, device_lock = self._take(kind)
        except BaseException:
            _unlock(lab_lock)
            raise
        try:
            yield appliance
        finally:
            with self._lock:
                self.leased.discard(appliance.name)
            _unlock(device_lock)
            _unlock(lab_lock)

    def _describe(self) -> str:
        return ", ".join(f"{a.name}={a.kind}" for a in self.appliances.values())

    def _candidates(self, kind: str) -> list[Appliance]:
        of_kind = [a for a in self.appliances.values() if a.kind == kind]
        if not of_kind:
            raise LookupError(f"the testbed has no {kind} device (devices: {self._describe()})")
        # Each xdist worker starts its search at a different appliance, so workers seldom hand one over.
        shift = self.worker_index % len(of_kind)
        return of_kind[shift:] + of_kind[:shift]

    def _take(self, kind: str) -> tuple[Appliance, IO[str] | None]:
        candidates = self._candidates(kind)
        end = time.monotonic() + LEASE_WAIT_S
        while True:
            with self._lock:
                for appliance in candidates:
                    if appliance.name in self.leased:
                        continue
                    handle = self._try_lock(appliance.name) if self.lease_dir is not None else None
                    if self.lease_dir is not None and handle is None:
                        continue  # another worker drives it
                    self.leased.add(appliance.name)
                    return appliance, handle
            if self.lease_dir is None:  # one process: nobody will release an appliance while we wait
                raise LookupError(f"the testbed has no free {kind} device (devices: {self._describe()})")
            if time.monotonic() > end:
                raise LookupError(f"no {kind} device became free within {LEASE_WAIT_S:.0f} s (the other xdist "
                                  f"workers hold them; locks in {self.lease_dir})")
            threading.Event().wait(LEASE_POLL_S)  # poll to the deadline: flock has no timeout of its own

    def _try_lock(self, name: str) -> IO[str] | None:
        assert self.lease_dir is not None
        handle = (self.lease_dir / f"{name}.lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def _lock_lab(self, exclusive: bool) -> IO[str]:
        """``lab.lock``, shared for a scenario and exclusive for one with a lab-wide step.

        flock lets a new shared holder in while an exclusive one waits, and on a lab the other workers keep busy
        there is hardly a moment with no scenario running: a lab-wide scenario could wait for ever. So every
        scenario first passes ``gate.lock`` (held for a moment), and one that waits for the whole lab holds it
        until the lab is its own: no new scenario starts meanwhile, it waits only for the running ones."""
        assert self.lease_dir is not None
        end = time.monotonic() + LEASE_WAIT_S
        gate = self._flock_by(self.lease_dir / "gate.lock", fcntl.LOCK_EX, end)
        try:
            return self._flock_by(self.lease_dir / "lab.lock", fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, end)
        finally:
            _unlock(gate)

    @staticmethod
    def _flock_by(path: Path, mode: int, end: float) -> IO[str]:
        handle = path.open("a+", encoding="utf-8")
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() > end:
                    handle.close()
                    raise LookupError(f"the lab stayed busy for {LEASE_WAIT_S:.0f} s (another xdist worker ran "
                                      f"a scenario that changes the whole lab; lock {path})") from None
                threading.Event().wait(LAB_POLL_S)  # poll to the deadline: flock has no timeout of its own
