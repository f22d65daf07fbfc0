"""AsyncOSGui against the simulator's web GUI (HTTPS, verified against the lab CA), by labels only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.appliance.gui import AsyncOSGui
from harness.errors import AuthenticationFailed, LabUnreachable, NavigationError
from tests.support.loop import BackgroundLoop
from tests.support.servers import serve_app

web_gui = pytest.importorskip("virtual_appliances.asyncos.web_gui", reason="simulator web GUI not there yet")
model = pytest.importorskip("virtual_appliances.asyncos.model")
clock_mod = pytest.importorskip("virtual_appliances.common.clock")

PASSWORD = "gui-Passw0rd-123"
AMERICAS = "AMERICAS (api-sse.cisco.com)"
EUROPE = "EUROPE (api.eu.sse.itd.cisco.com)"


@dataclass
class SimGui:
    appliance: Any
    url: str
    ca: str


@pytest.fixture
def sim(bg: BackgroundLoop, lab_ca: Any) -> Iterator[SimGui]:
    spec = model.ApplianceSpec(name="esa1", hostname="esa1.example.com")
    appliance = model.Appliance(spec, clock_mod.SimClock(speed=1.0), PASSWORD)
    runner, port = bg.run(serve_app(web_gui.gui_app(appliance), lab_ca.server_context("127.0.0.1", "localhost")))
    yield SimGui(appliance, f"https://127.0.0.1:{port}", str(lab_ca.bundle))
    bg.run(runner.cleanup())


@pytest.fixture
def gui(sim: SimGui) -> Iterator[AsyncOSGui]:
    driver = AsyncOSGui(sim.url, "admin", PASSWORD, name="esa1", verify=sim.ca, timeout=(3, 10))
    yield driver
    driver.close()


def test_initial_cloud_service_settings(gui: AsyncOSGui) -> None:
    page = gui.cloud_service_settings()
    assert page.heading == "Cloud Service Settings"
    assert page.value("Threat Response") == "Disabled"  # ENA-1
    assert page.value("Threat Response Server") == "No Server is set."
    assert page.value("Status") == ("Enable the Cloud Services on your appliance to use the Cisco Threat Response "
                                    "portal.")
    assert page.button("Edit Settings") is not None


def test_edit_form_offers_the_documented_servers(gui: AsyncOSGui) -> None:
    gui.cloud_service_settings()
    page = gui.click("Edit Settings")
    form = page.form_with("Enable")
    assert form is not None
    server = form.fields_labelled("Threat Response Server")[0]
    assert [o.text for o in server.options] == [AMERICAS, EUROPE]  # ENA-3
    assert server.selected_text == AMERICAS  # the default


def test_enable_submit_is_staged_until_commit(gui: AsyncOSGui, sim: SimGui) -> None:
    page = gui.edit_cloud_settings(enable=True, server=EUROPE)
    assert page.value("Threat Response") == "Disabled"  # ENA-5: not applied before commit
    assert page.button("Commit Changes") is not None
    page = gui.commit_changes("enable CTR")
    assert "Success \u2014 Your changes have been committed." in page.messages_of("success")  # ENA-4
    assert page.value("Threat Response") == "Enabled"
    assert page.value("Threat Response Server") == EUROPE
    assert page.value("Status", ).startswith("The Cisco Cloud Service is busy.")
    assert sim.appliance.last_commit_comment == "enable CTR"


def test_abandon_changes(gui: AsyncOSGui) -> None:
    gui.edit_cloud_settings(enable=True)
    page = gui.abandon_changes()
    assert page.button("Commit Changes") is None
    assert gui.cloud_service_settings().value("Threat Response") == "Disabled"


def test_registration_token_field_after_the_busy_period(gui: AsyncOSGui, sim: SimGui) -> None:
    gui.edit_cloud_settings(enable=True, server="AMERICAS")  # a unique prefix of the visible option text
    gui.commit_changes()
    sim.appliance.clock.advance(model.BUSY_SECONDS + 1)
    page = gui.cloud_service_settings()
    assert page.button("Register") is not None
    token = "0123456789abcdef0123456789abcdef"
    page = gui.register(token)  # no connector in this test: the registration stays in progress
    assert any(m.startswith("Success \u2014 A request to register") for m in page.messages_of("success"))
    assert page.value("Status").startswith("The appliance registration is in progress.")
    assert token not in gui.transcript.render()


def test_unknown_server_is_a_navigation_error_listing_choices(gui: AsyncOSGui) -> None:
    with pytest.raises(NavigationError, match="APJC"):
        gui.edit_cloud_settings(enable=True, server="APJC (api.apj.sse.itd.cisco.com)")


def test_message_tracking_search_with_no_match(gui: AsyncOSGui) -> None:
    assert gui.track_messages(subject="nothing matches this") == []
    assert gui.page is not None and gui.page.heading == "Message Tracking"


def test_wrong_password_is_authentication_failed(sim: SimGui) -> None:
    driver = AsyncOSGui(sim.url, "admin", "not-the-password", verify=sim.ca)
    with pytest.raises(AuthenticationFailed, match="Invalid username or passphrase"):
        driver.login()
    assert "not-the-password" not in driver.transcript.render()


def test_transcript_masks_password_csrf_and_cookies(gui: AsyncOSGui) -> None:
    gui.cloud_service_settings()
    text = gui.transcript.render()
    assert PASSWORD not in text
    assert "password=***" in text
    assert "CSRFKey=***" in text
    assert "Cookie: ***" in text or "Set-Cookie: ***" in text


def test_tls_is_verified(sim: SimGui) -> None:
    driver = AsyncOSGui(sim.url, "admin", PASSWORD, verify=True)  # the system CAs do not know the lab CA
    with pytest.raises(LabUnreachable, match=r"SSLError|certificate"):
        driver.login()


@pytest.mark.parametrize(("kind", "version", "variant", "edit", "feature"), [
    ("sma", "13.6.0-100", "securex", "Edit Settings", "Threat Response"),
    ("sma", "14.0.0-100", "securex", "Edit Global Settings", "Threat Response"),  # seed 000
    ("gateway", "14.0.0-100", "securex", "Enable", "Cloud Service"),  # ENA-8
    ("gateway", "14.0.0-100", "cisco-cloud", "Enable", "Cisco Cloud Services"),  # ENA-8
])
def test_the_same_driver_reads_every_product_variant(bg: BackgroundLoop, lab_ca: Any, kind: str, version: str,
                                                      variant: str, edit: str, feature: str) -> None:
    spec = model.ApplianceSpec(name="x1", hostname="x1.example.com", kind=kind, version=version,
                               gateway_variant=variant)
    appliance = model.Appliance(spec, clock_mod.SimClock(speed=1.0), PASSWORD)
    runner, port = bg.run(serve_app(web_gui.gui_app(appliance), lab_ca.server_context("127.0.0.1")))
    try:
        gui = AsyncOSGui(f"https://127.0.0.1:{port}", "admin", PASSWORD, verify=str(lab_ca.bundle))
        page = gui.cloud_service_settings()  # SMA: Management Appliance > Network is a menu heading
        assert page.button(edit) is not None
        assert page.value(feature) == "Disabled"
        page = gui.edit_cloud_settings(enable=True, server="EUROPE")
        page = gui.commit_changes("variant")
        assert page.value(feature) == "Enabled"
        assert "EUROPE" in " ".join(v for k, v in page.rows if "server" in k.lower())
    finally:
        bg.run(runner.cleanup())


def test_a_session_that_expired_mid_form_is_renewed_and_the_form_submitted(gui: AsyncOSGui, sim: SimGui) -> None:
    gui.cloud_service_settings()
    gui.click("Edit Settings")
    gui.fill({"Enable": True, "Threat Response Server": EUROPE})
    gui.http.cookies.clear()  # what an idle timeout does to the session
    page = gui.click("Submit")
    assert not page.is_login
    assert sim.appliance.staged.enabled and sim.appliance.staged.server == "EUROPE"
    assert page.button("Commit Changes") is not None
