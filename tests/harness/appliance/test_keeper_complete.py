"""The keeper records and restores everything a destructive scenario changes (issue 15 item 4): the
remediation profile, the Threat Response modules it created, and it gives up in one line per appliance
when the appliance is gone. Against the bundled lab, used as real gear (GUI and CTR API only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.appliance import keeper as keeper_module
from harness.appliance.gui import AsyncOSGui
from harness.appliance.keeper import (
    ApplianceKeeper,
    GuiSettingsKeeper,
    ModuleKeeper,
    RemediationProfileKeeper,
)
from harness.safety import RestoreFailed, SafetyNet
from tests.support.running_lab import running_lab
from tests.support.sim_proof import free_port


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_lab(tmp_path_factory.mktemp("keeper-complete")) as tb:
        yield tb


def gui_of(tb: dict[str, Any], port: int | None = None) -> AsyncOSGui:
    dev = tb["devices"]["esa1"]
    conn = dev["connections"]["gui"]
    return AsyncOSGui(f"https://{conn['host']}:{port or conn['port']}/", "admin",
                      dev["credentials"]["default"]["password"], name="esa1", verify=tb["network"]["ca_bundle"],
                      timeout=(2.0, 10.0))


def set_remediation(gui: AsyncOSGui, enabled: bool) -> None:
    gui.navigate("System Administration", "Account Settings")
    gui.fill({"Enable Remediation Profile": enabled})
    gui.click("Submit")
    gui.commit_changes("test")


def test_the_remediation_profile_a_scenario_turned_on_is_turned_off_again(testbed: dict[str, Any]) -> None:
    gui = gui_of(testbed)
    keeper = RemediationProfileKeeper("esa1", lambda: gui)
    before = keeper.snapshot()
    assert before is False
    set_remediation(gui, True)  # what "the appliance has a remediation profile enabled" does
    assert keeper.snapshot() is True
    keeper.restore(before)
    assert keeper.snapshot() is False
    keeper.restore(before)  # idempotent: nothing to change, nothing committed
    assert gui.navigate("System Administration", "Account Settings").button("Commit Changes") is None


class Modules:
    """Threat Response's module-instance API as the keeper uses it (list, delete)."""

    def __init__(self, *ids: str) -> None:
        self.ids = list(ids)

    def module_instances(self) -> list[dict[str, Any]]:
        return [{"id": i, "name": f"module {i}"} for i in self.ids]

    def delete_module_instance(self, instance_id: str) -> None:
        self.ids.remove(instance_id)


def test_modules_created_during_the_scenario_are_deleted_and_others_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cloud import ctr

    monkeypatch.setattr(ctr, "CREATED_MODULES", {"made-by-the-scenario"})
    monkeypatch.setattr(keeper_module, "CREATED_MODULES", ctr.CREATED_MODULES)
    client = Modules("existed-before")
    keeper = ModuleKeeper("nam", lambda: client)
    before = keeper.snapshot()
    client.ids += ["made-by-the-scenario", "a-colleague-added-meanwhile"]
    keeper.restore(before)
    assert client.ids == ["existed-before", "a-colleague-added-meanwhile"]
    assert keeper.describe(before) == ("delete the integration modules added during the scenario (keep the 1 that "
                                       "existed before)")


def test_a_dead_appliance_gives_one_line_naming_what_to_restore_by_hand(testbed: dict[str, Any]) -> None:
    alive = gui_of(testbed)
    parts = [GuiSettingsKeeper("esa1", lambda: alive, lambda region: None, lambda name: 5.0, 0.05),
             RemediationProfileKeeper("esa1", lambda: alive)]
    keeper = ApplianceKeeper("esa1", parts)
    net = SafetyNet()
    net._atexit = True  # this test's net must not register an exit handler
    dead = gui_of(testbed, port=free_port())  # the lab died during the scenario
    with pytest.raises(RestoreFailed) as info, net.guard([keeper], "scenario s"):
        set_remediation(alive, True)
        parts[0]._gui = parts[1]._gui = lambda: dead  # type: ignore[attr-defined]
    lines = str(info.value).splitlines()
    assert len(lines) == 2  # the heading and one line for esa1
    assert lines[1].startswith("  esa1 NOT restored after scenario s (RestoreFailed: esa1 GUI unreachable at")
    assert lines[1].endswith("restore by hand: Network > Cloud Service Settings: disabled; System Administration > "
                             "Account Settings: Enable Remediation Profile unchecked")
    assert net.unrestored == [lines[1].strip()] and net.pending == []  # not retried at exit
    set_remediation(alive, False)
