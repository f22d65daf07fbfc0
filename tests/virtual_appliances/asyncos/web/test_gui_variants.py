"""Wording by product and era: SecureX-era SMA (seed 000), content security gateways (ENA-8), REG-9."""

from __future__ import annotations

import pytest

from virtual_appliances.asyncos import messages as msg
from virtual_appliances.asyncos.model import BUSY_SECONDS, Appliance, RegState

from .support import Factory, GuiClient, SimAppliance, instant_cloud, page_text, select_options

PAGE = "/network/cloud_service_settings"
EDIT = "/network/cloud_service_settings/edit"
REREGISTER = "/network/cloud_service_settings/reregister"
ALL_SERVERS = ["AMERICAS (api-sse.cisco.com)", "EUROPE (api.eu.sse.itd.cisco.com)", "APJC (api.apj.sse.itd.cisco.com)"]


def enable_commit_register(sim: SimAppliance, client: GuiClient, server: str = "AMERICAS") -> None:
    sim.call(setattr, sim.appliance, "connector", instant_cloud)
    client.get(EDIT)
    client.submit(EDIT, enabled="on", server=server)
    client.get("/commit")
    client.submit("/commit", action="commit", referrer=PAGE)
    sim.advance(BUSY_SECONDS)
    client.get(PAGE)
    client.submit(PAGE + "/register", token="8e789d60b6ced63875353d177f25ab0e")
    assert sim.appliance.state is RegState.REGISTERED


@pytest.mark.parametrize(("variant", "button", "checkbox", "select_label"), [
    ("securex", "Enable", "Enable Cloud Service", "SecureX server:"),
    ("cisco-cloud", "Enable", "Enable Cisco Cloud Services", "Cisco Secure server:"),
])
def test_gateway_variants(make_appliance: Factory, variant: str, button: str, checkbox: str,
                          select_label: str) -> None:
    """ENA-8: the gateway's own labels, then a Register button a few minutes after commit."""
    sim = make_appliance(kind="gateway", version="14.2.0-620", gateway_variant=variant, name="gw1")
    client = sim.gui()
    html = client.get(PAGE).text
    assert f'id="edit_settings" class="button" href="{EDIT}">{button}</a>' in html
    edit = client.get(EDIT).text
    text = page_text(edit)
    assert checkbox in text and select_label in text
    assert [label for label, _ in select_options(edit, "server")] == ALL_SERVERS
    client.submit(EDIT, enabled="on", server="EUROPE")
    client.get("/commit")
    text = page_text(client.submit("/commit", action="commit", referrer=PAGE).text)
    assert msg.COMMITTED in text and msg.STATUS_BUSY in text
    assert "EUROPE (api.eu.sse.itd.cisco.com)" in text
    sim.advance(BUSY_SECONDS)
    assert ">Register</button>" in client.get(PAGE).text


def test_securex_era_sma_labels_and_apjc(make_appliance: Factory) -> None:
    """Seed 000: "Edit Global Settings"; ENA-3: APJC offered in the SecureX era."""
    sim = make_appliance(kind="sma", version="14.0.0-100", name="sma1")
    client = sim.gui()
    text = client.text(PAGE)
    assert "Edit Global Settings" in text
    assert "Cisco C100V Content Security Management Virtual Appliance" in text
    for tab in ("Management Appliance", "Email", "Web"):
        assert tab in text
    options = select_options(client.get(EDIT).text, "server")
    assert [label for label, _ in options] == ALL_SERVERS
    assert options[0][1], "AMERICAS is the default"


def test_ctr_era_sma_has_no_apjc(make_appliance: Factory) -> None:
    sim = make_appliance(kind="sma", version="12.5.0-100", name="sma2")
    client = sim.gui()
    assert "Edit Settings" in client.text(PAGE)
    assert len(select_options(client.get(EDIT).text, "server")) == 2


def test_reregister_without_token_asks_for_confirmation(make_appliance: Factory) -> None:
    """REG-9: no token -> "Confirm reregistration" -> Submit -> reregistered with its smart account."""
    sim = make_appliance(kind="sma", version="14.0.0-100", name="sma1")
    client = sim.gui()
    enable_commit_register(sim, client)
    page = client.get(PAGE).text
    assert "Reregister" in page_text(page) and "Deregister" in page_text(page)
    form = client.get(REREGISTER).text
    assert [label for label, _ in select_options(form, "server")] == ALL_SERVERS
    assert "Registration Token (optional):" in page_text(form)
    confirm = client.submit(REREGISTER, server="AMERICAS", token="")
    text = page_text(confirm.text)
    assert msg.REREGISTER_CONFIRM_TITLE in text and "Submit" in text
    assert sim.appliance.state is RegState.REGISTERED  # nothing happened yet
    jobs: list[tuple[str, dict]] = []

    def recording_cloud(appliance: Appliance, action: str, params: dict) -> None:
        jobs.append((action, params))
        instant_cloud(appliance, action, params)

    sim.call(setattr, sim.appliance, "connector", recording_cloud)
    done = client.submit(REREGISTER, server="AMERICAS", confirm="yes")
    assert msg.REREGISTER_INITIATED in page_text(done.text)
    assert jobs == [("reregister", {"server": "AMERICAS", "token": None, "device_id": jobs[0][1]["device_id"],
                                    "smart_account": sim.appliance.lab.smart_account})]


def test_reregister_with_token_and_another_server(make_appliance: Factory) -> None:
    """REG-9: a token and a server choice skip the confirmation."""
    sim = make_appliance(kind="esa", version="14.0.0-698", name="esa14")
    client = sim.gui()
    enable_commit_register(sim, client)
    client.get(REREGISTER)
    done = client.submit(REREGISTER, server="APJC", token="0123456789abcdef0123456789abcdef")
    text = page_text(done.text)
    assert msg.REREGISTER_INITIATED in text
    assert "APJC (api.apj.sse.itd.cisco.com)" in text
    assert sim.appliance.registration.server == "APJC"


def test_reregister_needs_smart_licensing(make_appliance: Factory) -> None:
    """PRE-6."""
    sim = make_appliance(kind="sma", version="14.0.0-100", name="sma1")
    client = sim.gui()
    enable_commit_register(sim, client)
    sim.call(setattr, sim.appliance.lab, "smart_licensing", False)
    client.get(REREGISTER)
    text = page_text(client.submit(REREGISTER, token="0123456789abcdef0123456789abcdef").text)
    assert msg.REREGISTER_NEEDS_SMART_LICENSING in text
