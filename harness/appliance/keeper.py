"""Record what a destructive scenario can change on real gear before it runs, and put it back after.

Per appliance (:class:`ApplianceKeeper`, one line per appliance when it cannot be restored):

* the cloud settings, what Network > Cloud Service Settings shows: whether the feature is enabled, the
  server, and whether the appliance is registered (:class:`GuiSettingsKeeper`). Restoring walks the
  documented procedures over the GUI: deregister if the registration must change, edit and commit the
  settings, wait for the token field and register again with a token from the testbed's SSE.
  Registration cannot be restored without a token: with no token source the restore says so;
* the remediation profile, System Administration > Account Settings > Enable Remediation Profile, which
  the remediation scenarios switch (:class:`RemediationProfileKeeper`).

Per Threat Response region of the testbed: the integration modules a scenario created are deleted
(:class:`ModuleKeeper`; the modules that existed before are never touched).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from ..cloud.ctr import CREATED_MODULES
from ..cloud.sse import token_source
from ..errors import DriverError, LabUnreachable, NavigationError
from ..facts import REGION_OF_SERVER
from ..polling import poll_until
from ..provisioned_lab import Lab
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
                if not snapshot.enabled and snapshot.server and now.server != snapshot.server:
                    # a disabled appliance shows its server, but the select is greyed out while the box is
                    # unchecked: choose it enabled, then uncheck; one commit for both
                    gui.edit_cloud_settings(enable=True, server=snapshot.server)
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

    @staticmethod
    def describe(snapshot: object) -> str:
        assert isinstance(snapshot, CloudSettings)
        if not snapshot.enabled:
            return "Network > Cloud Service Settings: disabled"
        return (f"Network > Cloud Service Settings: enabled, server {snapshot.server or 'none'}, "
                f"{'registered' if snapshot.registered else 'not registered'}")


REMEDIATION_PATH = ("System Administration", "Account Settings")
REMEDIATION_LABEL = "Enable Remediation Profile"


class RemediationProfileKeeper:
    """System Administration > Account Settings > Enable Remediation Profile (REM-1), over the GUI.

    ``None`` as a snapshot: the appliance has no such setting (an SMA), so there is nothing to restore."""

    def __init__(self, name: str, gui: Callable[[], AsyncOSGui]) -> None:
        self.name = name
        self._gui = gui

    def snapshot(self) -> bool | None:
        try:
            page = self._gui().navigate(*REMEDIATION_PATH)
        except NavigationError:
            return None
        form = page.form_with(REMEDIATION_LABEL)
        boxes = [f for f in (form.fields_labelled(REMEDIATION_LABEL) if form else []) if f.kind == "checkbox"]
        return boxes[0].checked if boxes else None

    def restore(self, snapshot: object) -> None:
        if snapshot is None or self.snapshot() == snapshot:
            return  # nothing changed: no Submit, no commit (there would be nothing to commit)
        gui = self._gui()
        try:
            gui.navigate(*REMEDIATION_PATH)
            gui.fill({REMEDIATION_LABEL: bool(snapshot)})
            gui.click("Submit")
            gui.commit_changes("ctrlab: restore the remediation profile recorded before a destructive scenario")
        except DriverError as exc:
            raise RestoreFailed(f"{self.name}: could not restore {REMEDIATION_LABEL}={snapshot}: {exc}") from exc
        if self.snapshot() != snapshot:
            raise RestoreFailed(f"{self.name}: {REMEDIATION_LABEL} is still not {snapshot} after restoring")

    @staticmethod
    def describe(snapshot: object) -> str:
        if snapshot is None:
            return "no remediation profile setting"
        return f"System Administration > Account Settings: {REMEDIATION_LABEL} {'checked' if snapshot else 'unchecked'}"


class ApplianceKeeper:
    """Everything one appliance keeps: its parts are restored in order; a transport fault stops the rest
    (the appliance is not reachable: asking again only adds noise), and one failure names them all."""

    def __init__(self, name: str, parts: Sequence[Any]) -> None:
        self.name = name
        self.parts = list(parts)

    def snapshot(self) -> tuple[object, ...]:
        return tuple(part.snapshot() for part in self.parts)

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, tuple) and len(snapshot) == len(self.parts)
        problems: list[str] = []
        for part, recorded in zip(self.parts, snapshot, strict=True):
            try:
                part.restore(recorded)
            except LabUnreachable as exc:
                problems.append(str(exc).splitlines()[0])
                break
            except (DriverError, RestoreFailed) as exc:
                problems.append(str(exc).splitlines()[0])
        if problems:
            raise RestoreFailed("; ".join(problems))

    def describe(self, snapshot: object) -> str:
        assert isinstance(snapshot, tuple)
        return "; ".join(part.describe(s) for part, s in zip(self.parts, snapshot, strict=True))


class ModuleKeeper:
    """The Threat Response integration modules of one region: those the scenario (this process) created are
    deleted; modules that existed before, or that someone else added meanwhile, are never touched."""

    def __init__(self, region: str, client: Callable[[], Any]) -> None:
        self.name = f"Threat Response ({region})"
        self._client = client

    def snapshot(self) -> frozenset[str]:
        return frozenset(str(m.get("id")) for m in self._client().module_instances() if m.get("id"))

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, frozenset)
        client = self._client()
        added = [m for m in client.module_instances() if m.get("id") and str(m["id"]) not in snapshot
                 and str(m["id"]) in CREATED_MODULES]  # ours only: a module someone else added meanwhile stays
        for module in added:
            client.delete_module_instance(str(module["id"]))

    @staticmethod
    def describe(snapshot: object) -> str:
        count = len(snapshot) if isinstance(snapshot, frozenset) else "?"
        return f"delete the integration modules added during the scenario (keep the {count} that existed before)"


@pytest.hookimpl(trylast=True)
def pytest_ctrlab_settings_keepers(lab: Lab, item: pytest.Item) -> list[GuiSettingsKeeper] | None:
    """The default keepers on real gear: every appliance not proven a simulator, over its GUI. A proven
    simulator needs none: scenarios put its appliances in a known state themselves."""
    from ..provenance import real_or_unknown

    real = real_or_unknown(lab)  # what the devices proved, not what the testbed claims
    if not real:
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

    keepers: list[Any] = []
    for name, device in lab.devices.items():
        if name not in real:
            continue  # a proven simulator: its scenarios put it in a known state themselves
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

        keepers.append(ApplianceKeeper(name, [
            GuiSettingsKeeper(name, gui, token, lambda n: float(getattr(deadlines, n)), deadlines.poll_interval),
            RemediationProfileKeeper(name, gui),
        ]))
    if keepers:
        keepers += [ModuleKeeper(region, _ctr_client(lab, region, verify)) for region in lab.testbed.cloud.ctr]
    return keepers or None


def _ctr_client(lab: Lab, region: str, verify: bool | str) -> Callable[[], Any]:
    def client() -> Any:
        from ..cloud import ThreatResponseClient

        conf = lab.ctr(region)
        return lab.resource(("keeper-ctr", region), lambda: ThreatResponseClient.from_config(
            region, conf.model_dump(), verify=verify))

    return client
