"""The drivers the doctor reads through, built lazily from the testbed and closed at the end.

Only the harness's protocol drivers: SSH CLI, GUI, REST, the SSE admin API and Threat Response.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..appliance import AsyncOSCli, AsyncOSGui, AsyncOSRest
from ..cloud import SseAdmin, ThreatResponseClient
from ..errors import DriverError
from ..testbed import Device, Testbed
from ..trust import host_trust


class Clients:
    def __init__(self, testbed: Testbed, timeout: float) -> None:
        self.testbed = testbed
        self.timeout = timeout  # seconds per connection attempt / HTTP read
        self.verify: bool | str = testbed.network.ca_bundle or True
        self._made: dict[tuple[str, str], Any] = {}

    def _get(self, key: tuple[str, str], make: Any) -> Any:
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def cli(self, name: str) -> AsyncOSCli:
        device = self._device(name, "cli")
        conn = device.connections.cli
        assert conn is not None
        return self._get(("cli", name), lambda: AsyncOSCli(
            conn.host, conn.port, device.username, device.password, name=name, timeout=max(self.timeout, 10.0),
            connect_timeout=max(self.timeout, 5.0), connect_attempts=2, host_trust=host_trust(self.testbed, name)))

    def gui(self, name: str) -> AsyncOSGui:
        device = self._device(name, "gui")
        conn = device.connections.gui
        assert conn is not None
        return self._get(("gui", name), lambda: AsyncOSGui(
            f"{conn.protocol}://{conn.host}:{conn.port}/", device.username, device.password, name=name,
            verify=self.verify, timeout=(max(self.timeout, 5.0), 30.0)))

    def rest(self, name: str) -> AsyncOSRest:
        device = self._device(name, "api")
        conn = device.connections.api
        assert conn is not None
        return self._get(("rest", name), lambda: AsyncOSRest(
            f"{conn.protocol}://{conn.host}:{conn.port}", device.username, device.password, kind=device.kind,
            name=name, verify=self.verify, timeout=(max(self.timeout, 5.0), 30.0)))

    def sse(self, region: str) -> SseAdmin | None:
        """The region's SSE admin API, or None when the testbed only holds a hand-made token."""
        conf = self.testbed.sse_for(region)
        if conf is None or conf.admin_url is None:
            return None
        return self._get(("sse", region), lambda: SseAdmin(
            conf.admin_url or "", conf.api_key or "", region=region, verify=self.verify,
            timeout=(max(self.timeout, 5.0), 30.0)))

    def ctr(self, region: str) -> ThreatResponseClient | None:
        conf = self.testbed.ctr_for(region)
        if conf is None:
            return None
        return self._get(("ctr", region), lambda: ThreatResponseClient.from_config(
            region, conf.model_dump(), verify=self.verify, timeout=(max(self.timeout, 5.0), 30.0),
            rate_limit_deadline=30.0))

    def close(self) -> None:
        for driver in self._made.values():
            with contextlib.suppress(DriverError, OSError, RuntimeError):
                driver.close()
        self._made.clear()

    def _device(self, name: str, role: str) -> Device:
        device = self.testbed.devices[name]
        if getattr(device.connections, role) is None:
            raise MissingConnection(f"the testbed gives no {role} connection for {name}")
        return device


class MissingConnection(DriverError):
    """The testbed does not say how to reach this interface of the appliance."""
