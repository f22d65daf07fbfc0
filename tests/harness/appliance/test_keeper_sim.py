"""The settings keeper puts an appliance back as it was after a destructive change, over the GUI only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.appliance.gui import AsyncOSGui
from harness.appliance.keeper import CloudSettings, GuiSettingsKeeper
from harness.cloud.sse import SseAdmin
from harness.polling import poll_until
from tests.support.running_lab import running_lab


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # The keeper waits as on real gear: the lab's appliance events fire by themselves (lab time, 1x otherwise).
    with running_lab(tmp_path_factory.mktemp("keeper"), "--autojump", "0.1") as tb:
        yield tb


def make_keeper(tb: dict[str, Any]) -> tuple[GuiSettingsKeeper, AsyncOSGui, SseAdmin]:
    dev = tb["devices"]["esa1"]
    gui_conn = dev["connections"]["gui"]
    ca = tb["network"]["ca_bundle"]
    gui = AsyncOSGui(f"https://{gui_conn['host']}:{gui_conn['port']}/", "admin",
                     dev["credentials"]["default"]["password"], name="esa1", verify=ca)
    admins = {region: SseAdmin(conf["admin_url"], conf["api_key"], region=region, verify=ca)
              for region, conf in tb["cloud"]["sse"].items()}
    deadlines = tb["deadlines"]
    keeper = GuiSettingsKeeper("esa1", lambda: gui, lambda region: admins[region].token(),
                               lambda name: float(deadlines[name]), deadlines["poll_interval"])
    return keeper, gui, admins["nam"]


def test_restore_brings_back_a_registered_appliance_after_deregister_and_disable(testbed: dict[str, Any]) -> None:
    keeper, gui, sse = make_keeper(testbed)
    sse.set_cloud_service(True)
    gui.edit_cloud_settings(enable=True, server="EUROPE (api.eu.sse.itd.cisco.com)")
    gui.commit_changes("keeper test")
    poll_until(lambda: gui.cloud_service_settings().button("Register"), testbed["deadlines"]["cloud_ready"],
               describe="the token field", interval=0.05)
    eu = testbed["cloud"]["sse"]["eu"]
    eu_admin = SseAdmin(eu["admin_url"], eu["api_key"], region="eu", verify=testbed["network"]["ca_bundle"])
    eu_admin.set_cloud_service(True)
    gui.register(eu_admin.token())
    poll_until(keeper.snapshot, 20, accept=lambda s: s.registered, describe="registered", interval=0.05)
    before = keeper.snapshot()
    assert before == CloudSettings(enabled=True, server="EUROPE (api.eu.sse.itd.cisco.com)", registered=True)

    # A destructive scenario: deregister, then disable and commit.
    gui.deregister()
    poll_until(keeper.snapshot, 20, accept=lambda s: not s.registered, describe="deregistered", interval=0.05)
    gui.edit_cloud_settings(enable=False)
    gui.commit_changes("destroy")
    assert keeper.snapshot().enabled is False

    keeper.restore(before)  # re-registers in EU with a token from the EU SSE
    assert keeper.snapshot() == before


def test_restore_of_an_unchanged_appliance_changes_nothing(testbed: dict[str, Any]) -> None:
    keeper, gui, _ = make_keeper(testbed)
    before = keeper.snapshot()
    keeper.restore(before)
    assert keeper.snapshot() == before
    assert gui.cloud_service_settings().button("Commit Changes") is None  # nothing was staged


def test_restore_of_a_disabled_appliance_brings_back_the_server_it_showed(testbed: dict[str, Any]) -> None:
    keeper, gui, _ = make_keeper(testbed)
    if keeper.snapshot().registered:
        gui.deregister()
        poll_until(keeper.snapshot, 20, accept=lambda s: not s.registered, describe="deregistered", interval=0.05)
    for enable in (True, False):  # EUROPE chosen (it may be already), then disabled
        gui.edit_cloud_settings(enable=enable, server="EUROPE (api.eu.sse.itd.cisco.com)" if enable else None)
        if gui.cloud_service_settings().button("Commit Changes") is not None:
            gui.commit_changes("keeper test")
    before = keeper.snapshot()
    assert before == CloudSettings(enabled=False, server="EUROPE (api.eu.sse.itd.cisco.com)", registered=False)

    gui.edit_cloud_settings(enable=True, server="AMERICAS (api-sse.cisco.com)")  # a destructive scenario
    gui.commit_changes("destroy")

    keeper.restore(before)
    assert keeper.snapshot() == before
