"""The one place that builds drivers from the typed testbed: SSH CLI, web GUI, REST API, SMTP per appliance,
the SSE admin API and Threat Response per region. Each is built on first use with the testbed's protocol,
address and CA bundle, kept for the session (SSH sessions are reused across scenarios) and closed at the end.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from .appliance import AsyncOSCli, AsyncOSGui, AsyncOSRest, SmtpSender
from .cloud import SseAdmin, ThreatResponseClient
from .errors import DriverError
from .testbed import Device, Testbed
from .trust import host_trust


class MissingConnection(DriverError):
    """The testbed does not say how to reach this interface of the appliance (or this region's cloud)."""


class Drivers:
    def __init__(self, testbed: Testbed, *, connect_timeout: float = 10.0, read_timeout: float = 30.0,
                 connect_attempts: int = 3, cli_read_timeout: float | None = None) -> None:
        self.testbed = testbed
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout  # HTTP drivers and SMTP
        self.cli_read_timeout = cli_read_timeout or read_timeout
        self.connect_attempts = connect_attempts
        self.verify: bool | str = testbed.network.ca_bundle or True
        self._made: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _get(self, key: tuple[str, str], make: Any) -> Any:
        with self._lock:
            if key not in self._made:
                self._made[key] = make()
            return self._made[key]

    def _device(self, name: str, role: str) -> Device:
        device = self.testbed.devices[name]
        if getattr(device.connections, role) is None:
            raise MissingConnection(f"the testbed gives no {role} connection for {name} (devices.{name}.connections."
                                    f"{role})")
        return device

    @property
    def _http_timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    # ---- one appliance ---------------------------------------------------------------------------------
    def cli(self, name: str) -> AsyncOSCli:
        device = self._device(name, "cli")
        conn = device.connections.cli
        assert conn is not None
        return self._get(("cli", name), lambda: AsyncOSCli(  # type: ignore[no-any-return]
            conn.host, conn.port, device.username, device.password, name=name, timeout=self.cli_read_timeout,
            connect_timeout=self.connect_timeout, connect_attempts=self.connect_attempts,
            host_trust=host_trust(self.testbed, name)))

    def gui(self, name: str) -> AsyncOSGui:
        device = self._device(name, "gui")
        conn = device.connections.gui
        assert conn is not None
        return self._get(("gui", name), lambda: AsyncOSGui(  # type: ignore[no-any-return]
            f"{conn.protocol}://{conn.host}:{conn.port}/", device.username, device.password, name=name,
            verify=self.verify, timeout=self._http_timeout))

    def rest(self, name: str) -> AsyncOSRest:
        device = self._device(name, "api")
        conn = device.connections.api
        assert conn is not None
        return self._get(("rest", name), lambda: AsyncOSRest(  # type: ignore[no-any-return]
            f"{conn.protocol}://{conn.host}:{conn.port}", device.username, device.password, kind=device.kind,
            name=name, verify=self.verify, timeout=self._http_timeout))

    def smtp(self, name: str) -> SmtpSender:
        conn = self._device(name, "smtp").connections.smtp
        assert conn is not None
        return SmtpSender(conn.host, conn.port, name=name, timeout=self.read_timeout)  # one per message

    # ---- the cloud of a region ---------------------------------------------------------------------------
    def has_sse_admin(self, region: str) -> bool:
        conf = self.testbed.sse_for(region)
        return conf is not None and conf.admin_url is not None

    def sse(self, region: str | None = None) -> SseAdmin:
        region = region or self.testbed.region
        conf = self.testbed.sse_for(region)
        if conf is None or conf.admin_url is None:
            raise MissingConnection(f"the testbed has no SSE admin API for region {region!r} (cloud.sse.{region}."
                                    "admin_url)")
        return self._get(("sse", region), lambda: SseAdmin(  # type: ignore[no-any-return]
            conf.admin_url or "", conf.api_key or "", region=region, verify=self.verify, timeout=self._http_timeout))

    def ctr(self, region: str | None = None) -> ThreatResponseClient:
        region = region or self.testbed.region
        conf = self.testbed.ctr_for(region)
        if conf is None:
            raise MissingConnection(f"the testbed has no Threat Response client for region {region!r} "
                                    f"(cloud.ctr.{region})")
        return self._get(("ctr", region), lambda: ThreatResponseClient.from_config(  # type: ignore[no-any-return]
            region, conf.model_dump(), verify=self.verify, timeout=self._http_timeout))

    def ctr_with(self, region: str, client_id: str, client_secret: str) -> ThreatResponseClient:
        """A client with other credentials (a ribbon's API client) on the same region's URLs; not kept."""
        conf = self.testbed.ctr_for(region)
        base = conf.model_dump() if conf is not None else {}
        return ThreatResponseClient.from_config(region, {**base, "client_id": client_id,
                                                         "client_secret": client_secret},
                                                verify=self.verify, timeout=self._http_timeout)

    # ---- life cycle ----------------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            made = list(self._made.values())
            self._made.clear()
        for driver in made:
            with contextlib.suppress(DriverError, OSError, RuntimeError):
                driver.close()  # closing at session end: nothing left to report to
