"""The lab seam the steps stand on: drivers, leases, lab control and lab time, all built from the typed testbed.

Steps never know which backend made the lab. They lease an appliance, drive it over its protocols through
:class:`~harness.drivers.Drivers`, ask :class:`~harness.labcontrol.LabControl` for lab set-ups, and wait through
:class:`~harness.labtime.LabTime`. The plugin's ``lab_access`` fixture builds one per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .appliance import AsyncOSCli, AsyncOSGui, AsyncOSRest, SmtpSender
from .cloud import SseAdmin, ThreatResponseClient
from .drivers import Drivers
from .facts import REGIONS
from .labcontrol import ControlPlane, LabControl, lab_control
from .labtime import LabTime
from .leasing import Appliance, Leases
from .provisioned_lab import Lab
from .testbed import Testbed


class LabAccess:
    """Session-wide: the drivers per appliance and region, the leases, the lab's control and time."""

    def __init__(self, lab: Lab, plane: ControlPlane | None = None, *, lease_dir: Path | None = None,
                 worker_index: int = 0) -> None:
        self.harness_lab = lab  # session resources and run-time secret masking
        self.testbed: Testbed = lab.testbed
        simulator = self.testbed.simulator
        self.control: LabControl = lab_control(plane, self.testbed.deviations,
                                               simulator.proxy_url if simulator is not None else None)
        # 15 s to read an HTTP answer: ample for an appliance page or a cloud API, and what a frozen lab costs the
        # one scenario in flight before the circuit breaker stops the run; the CLI keeps 30 s (a commit can be slow).
        self.drivers = Drivers(self.testbed, connect_timeout=10.0, read_timeout=15.0, cli_read_timeout=30.0)
        self.leases = Leases(self.testbed.devices, lease_dir, worker_index)
        self.time = LabTime(self.testbed.deadlines, self.control)
        # What this session learnt of the lab, so a scenario need not look again: SSE Cloud Services enabled
        # per region (PRE-2), where each appliance's Cloud Service Settings page is.
        self.tr_enabled: dict[str, bool] = {}
        self.cloud_url: dict[str, str] = {}

    # ---- the testbed, as steps ask for it -------------------------------------------------------------------
    @property
    def region(self) -> str:
        return self.testbed.region

    @property
    def sse_regions(self) -> list[str]:
        """The regions whose SSE the testbed can administer, in the documents' order."""
        return [r for r in REGIONS if self.drivers.has_sse_admin(r)]

    @property
    def appliances(self) -> dict[str, Appliance]:
        return self.leases.appliances

    @contextmanager
    def lease(self, kind: str = "esa", lab_wide: bool = False) -> Iterator[Appliance]:
        with self.leases.lease(kind, lab_wide) as appliance:
            yield appliance

    # ---- drivers --------------------------------------------------------------------------------------------
    def mask(self, *secrets: str | None) -> None:
        """Run-time secrets (tokens, client secrets) never reach a report, a log or the terminal."""
        self.harness_lab.mask(*secrets)

    def cli(self, device: Appliance) -> AsyncOSCli:
        return self.drivers.cli(device.name)

    def gui(self, device: Appliance) -> AsyncOSGui:
        return self.drivers.gui(device.name)

    def rest(self, device: Appliance) -> AsyncOSRest:
        return self.drivers.rest(device.name)

    def smtp(self, device: Appliance) -> SmtpSender:
        return self.drivers.smtp(device.name)

    def sse(self, region: str | None = None) -> SseAdmin:
        return self.drivers.sse(region)

    def ctr(self, region: str | None = None) -> ThreatResponseClient:
        return self.drivers.ctr(region)

    def ctr_with(self, region: str, client_id: str, client_secret: str) -> ThreatResponseClient:
        return self.drivers.ctr_with(region, client_id, client_secret)

    def close(self) -> None:
        self.drivers.close()
