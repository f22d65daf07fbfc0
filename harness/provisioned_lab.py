"""The ``lab`` fixture's object: the provisioned testbed as scenarios and drivers use it.

It is the seam for the drivers: ``lab.device(name)`` describes an appliance (connections, credentials),
``lab.sse()`` / ``lab.ctr()`` the cloud of a region, and ``lab.resource(key, factory, close)`` keeps a
session-wide object (an SSH session, an HTTP client) built once and closed when the session ends.
Nothing here asks which backend made the lab: scenarios never branch on it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from .report.masking import Masker
from .testbed import CtrRegion, Deadlines, Device, Network, SseRegion, Testbed, TestbedError

T = TypeVar("T")
log = logging.getLogger(__name__)


class Lab:
    def __init__(self, testbed: Testbed, backend: str, masker: Masker) -> None:
        self.testbed = testbed
        self.backend = backend  # for reports only: never branch on it
        self.masker = masker
        self._resources: dict[object, tuple[Any, Callable[[Any], object] | None]] = {}
        self._lock = threading.RLock()
        # pytest-xdist: the directory of the per-appliance lease locks all workers share; None: one process.
        self.lease_dir: Path | None = None
        from .trust import register

        register(testbed)  # the SSH host keys drivers check for these devices (harness/trust.py)

    # ---- the testbed, as scenarios ask for it --------------------------------------------------------
    @property
    def devices(self) -> Mapping[str, Device]:
        return self.testbed.devices

    def device(self, name: str) -> Device:
        try:
            return self.testbed.devices[name]
        except KeyError:
            raise TestbedError(self.testbed.source, [f"devices: no device named {name!r} (the testbed has: "
                                                     f"{', '.join(self.testbed.devices)})"]) from None

    def devices_of(self, kind: str) -> list[str]:
        return self.testbed.devices_of(kind)

    @property
    def region(self) -> str:
        return self.testbed.region

    @property
    def is_simulator(self) -> bool:
        """Whether lab control (``sim_control``) is available; for the harness's gating, not for steps."""
        return self.testbed.is_simulator

    @property
    def deadlines(self) -> Deadlines:
        return self.testbed.deadlines

    @property
    def network(self) -> Network:
        return self.testbed.network

    @property
    def deviations(self) -> Mapping[str, Any]:
        return self.testbed.deviations

    def sse(self, region: str | None = None) -> SseRegion:
        found = self.testbed.sse_for(region)
        if found is None:
            raise TestbedError(self.testbed.source, [f"cloud.sse: no entry for region {region or self.region!r}"])
        return found

    def ctr(self, region: str | None = None) -> CtrRegion:
        found = self.testbed.ctr_for(region)
        if found is None:
            raise TestbedError(self.testbed.source, [f"cloud.ctr: no entry for region {region or self.region!r}"])
        return found

    # ---- session resources (drivers) -----------------------------------------------------------------
    def resource(self, key: object, factory: Callable[[], T], close: Callable[[T], object] | None = None) -> T:
        """The object stored under ``key``, built by ``factory`` on first use; ``close`` runs at session end."""
        with self._lock:
            if key not in self._resources:
                self._resources[key] = (factory(), close)
            return self._resources[key][0]  # type: ignore[no-any-return]

    def forget(self, key: object) -> None:
        """Close and drop one resource (e.g. an SSH session the scenario broke on purpose)."""
        with self._lock:
            value, close = self._resources.pop(key, (None, None))
        if close is not None:
            with contextlib.suppress(Exception):
                close(value)

    def close(self) -> None:
        with self._lock:
            items = list(self._resources.items())[::-1]
            self._resources.clear()
        for key, (value, close) in items:
            if close is None:
                continue
            try:
                close(value)
            except Exception:
                log.warning("closing lab resource %r failed", key, exc_info=True)

    def mask(self, *secrets: str | None) -> None:
        """Register run-time secrets (registration tokens, bearer tokens): they never reach any output."""
        self.masker.add(*secrets)

    def __repr__(self) -> str:
        return f"<Lab {self.testbed.name!r} backend={self.backend} devices={list(self.devices)} region={self.region}>"
