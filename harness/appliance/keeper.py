"""Record an appliance's cloud settings before a destructive scenario and put them back after.

The settings are what Network > Cloud Service Settings shows: whether the feature is enabled, the
server, and whether the appliance is registered. Restoring walks the documented procedures over the
GUI: deregister if the registration must change, edit and commit the settings, wait for the token field
and register again with a token from the testbed's SSE (admin API or portal-made tokens). Registration
is the one thing that cannot be restored without a token: with no token source the restore says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ..cloud.sse import token_source
from ..errors import DriverError
from ..facts import REGION_OF_SERVER
from ..lab import Lab
from ..polling import poll_until
from ..safety import RestoreFailed
from .cloud_page import read_cloud_page
from .gui import AsyncOSGui
from .page import Page


@dataclass(frozen=True)
class CloudSettings:
    enabled: bool
    server: str | None  # the server as the page shows it, e.g. "AMERICAS (api-sse.cisco.com)"
    registered: bool


def read_settings(page: Page) -> CloudSettings:
    view = read_cloud_page(page)
    return CloudSettings(enabled=view.is_enabled, server=view.server if view.server_choice else None,
                         registered=view.registered)


class GuiSettingsKeeper:
    """A :class:`harness.safety.CloudSettingsKeeper` for one appliance, over its web GUI."""

    def __init__(self, name: str, gui: Callable[[], AsyncOSGui], token: Callable[[str], str | None],
                 deadlines: Callable[[str], float], poll_interval: float) -> None:
        """``token(region)`` gives a registration token from that region's SSE, or None when the
        testbed has no way to get one there."""
        self.name = name
        self._gui = gui
        self._token = token
        self._deadline = deadlines
        self._interval = poll_interval

    def snapshot(self) -> CloudSettings:
        return read_settings(self._gui().cloud_service_settings())

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, CloudSettings)
        gui = self._gui()
        now = self.snapshot()
        if now == snapshot:
            return
        try:
            if now.registered and (not snapshot.registered or now.server != snapshot.server):
                gui.deregister()
                self._wait(lambda s: not s.registered, "deregistration")
            if (now.enabled, now.server) != (snapshot.enabled, snapshot.server):
                gui.edit_cloud_settings(enable=snapshot.enabled,
                                        server=snapshot.server if snapshot.enabled else None)
                gui.commit_changes("ctrlab: restore the cloud settings recorded before a destructive scenario")
            if snapshot.registered and not self.snapshot().registered:
                region = REGION_OF_SERVER.get((snapshot.server or "AMERICAS").split(" ")[0], "nam")
                token = self._token(region)  # from the SSE of the region it was registered in (REG-8)
                if token is None:
                    raise RestoreFailed(f"{self.name} was registered before the scenario; re-registering it "
                                        f"needs a token, and the testbed gives no cloud.sse.{region}")
                poll_until(lambda: gui.cloud_service_settings().button("Register"), self._deadline("cloud_ready"),
                           describe=f"{self.name}: the Registration Token field", interval=self._interval)
                gui.register(token)
                self._wait(lambda s: s.registered, "registration")
        except DriverError as exc:
            raise RestoreFailed(f"{self.name}: could not restore the cloud settings {snapshot}: {exc}") from exc
        final = self.snapshot()
        if final != snapshot:
            raise RestoreFailed(f"{self.name}: cloud settings are {final} after restoring, expected {snapshot}")

    def _wait(self, done: Callable[[CloudSettings], bool], deadline: str) -> None:
        poll_until(self.snapshot, self._deadline(deadline), accept=done, interval=self._interval,
                   describe=f"{self.name}: the {deadline} while restoring its cloud settings")


@pytest.hookimpl(trylast=True)
def pytest_ctrlab_settings_keepers(lab: Lab, item: pytest.Item) -> list[GuiSettingsKeeper] | None:
    """The default keepers on real gear: every appliance of the testbed, over its GUI. A simulator lab
    needs none: scenarios put its appliances in a known state themselves."""
    if lab.is_simulator:
        return None
    verify: bool | str = lab.network.ca_bundle or True
    deadlines = lab.deadlines

    def token(region: str) -> str | None:
        sse = lab.testbed.sse_for(region)
        if sse is None:
            return None
        source = lab.resource(("keeper-tokens", region), lambda: token_source(
            sse.model_dump(exclude_none=True), region=region, verify=verify))
        return source.token()

    keepers = []
    for name, device in lab.devices.items():
        conn = device.connections.gui
        if conn is None:
            continue  # no GUI to read the settings from: the scenario is refused for lack of a keeper
        url = f"{conn.protocol}://{conn.host}:{conn.port}/"

        def gui(url: str = url, device_name: str = name) -> AsyncOSGui:
            dev = lab.device(device_name)
            return lab.resource(("keeper-gui", device_name),
                                lambda: AsyncOSGui(url, dev.username, dev.password, name=device_name,
                                                   verify=verify),
                                lambda g: g.close())

        keepers.append(GuiSettingsKeeper(name, gui, token,
                                         lambda n: float(getattr(deadlines, n)), deadlines.poll_interval))
    return keepers or None
