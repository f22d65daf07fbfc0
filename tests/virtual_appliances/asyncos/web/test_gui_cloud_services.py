"""Network > Cloud Service Settings on an ESA C100V 13.0 (seeds 002/004): ENA-1..5, REG-2, REG-5."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from virtual_appliances.asyncos import messages as msg
from virtual_appliances.asyncos.model import BUSY_SECONDS, RegState

from .support import GuiClient, SimAppliance, instant_cloud, page_text, select_options

PAGE = "/network/cloud_service_settings"
EDIT = "/network/cloud_service_settings/edit"


def enable_and_commit(client: GuiClient, server: str = "AMERICAS", comment: str = "Enabling CTR") -> str:
    client.get(EDIT)
    client.submit(EDIT, enabled="on", server=server, action="submit")
    client.get("/commit?referrer=" + PAGE)
    response = client.submit("/commit", action="commit", comment=comment, referrer=PAGE)
    assert urlsplit(response.url).path == PAGE, response.url
    return page_text(response.text)


def test_initial_page_is_disabled_with_no_server(esa: SimAppliance) -> None:
    """ENA-1."""
    text = esa.gui().text(PAGE)
    assert "Cloud Services Threat Response: Disabled Threat Response Server: No Server is set." in text
    assert f"Status: {msg.STATUS_DISABLED}" in text
    assert "Edit Settings" in text
    assert msg.NO_CHANGES_PENDING in text and "Commit Changes" not in text


def test_edit_form_offers_the_servers_with_americas_default(esa: SimAppliance) -> None:
    """ENA-2/ENA-3 (Threat Response era: no APJC)."""
    client = esa.gui()
    html = client.get(EDIT).text
    text = page_text(html)
    assert "Threat Response: Enable" in text and "Threat Response Server:" in text
    assert "Cancel" in text and "Submit" in text
    assert select_options(html, "server") == [("AMERICAS (api-sse.cisco.com)", True),
                                              ("EUROPE (api.eu.sse.itd.cisco.com)", False)]


def test_submitted_changes_do_not_show_until_committed(esa: SimAppliance) -> None:
    """ENA-5 / TS-3: the page shows the committed configuration and asks for no token."""
    client = esa.gui()
    client.get(EDIT)
    response = client.submit(EDIT, enabled="on", server="AMERICAS", action="submit")
    text = page_text(response.text)
    assert urlsplit(response.url).path == PAGE
    assert "Threat Response: Disabled" in text and "No Server is set." in text
    assert msg.STATUS_DISABLED in text
    assert "Registration Token" not in text and "Register" not in text.replace("Registration", "")
    assert "Commit Changes" in text
    esa.advance(BUSY_SECONDS * 10)  # however long one waits, nothing happens without commit
    text = client.text(PAGE)
    assert "Threat Response: Disabled" in text and "Registration Token" not in text


def test_uncommitted_changes_page(esa: SimAppliance) -> None:
    client = esa.gui()
    client.get(EDIT)
    client.submit(EDIT, enabled="on", server="AMERICAS")
    text = client.text("/commit?referrer=" + PAGE)
    assert "Uncommitted Changes" in text
    assert msg.UNCOMMITTED_NOTICE in text
    assert "Comment (optional):" in text
    for button in ("Cancel", "Abandon Changes", "Commit Changes"):
        assert button in text


def test_commit_shows_success_and_busy_then_the_token_field(esa: SimAppliance) -> None:
    """ENA-4."""
    client = esa.gui()
    text = enable_and_commit(client)
    assert msg.COMMITTED in text
    assert "Threat Response: Enabled Threat Response Server: AMERICAS (api-sse.cisco.com)" in text
    assert f"Status: {msg.STATUS_BUSY}" in text
    assert "Registration Token" not in text
    assert esa.appliance.last_commit_comment == "Enabling CTR"
    # The flash is shown once.
    assert msg.COMMITTED not in client.text(PAGE)
    esa.advance(BUSY_SECONDS)
    html = client.get(PAGE).text
    text = page_text(html)
    assert "Registration Token:" in text and 'name="token"' in html
    assert ">Register</button>" in html


def test_europe_is_shown_after_commit(esa: SimAppliance) -> None:
    text = enable_and_commit(esa.gui(), server="EUROPE")
    assert "Threat Response Server: EUROPE (api.eu.sse.itd.cisco.com)" in text


def test_register_initiates_registration(esa: SimAppliance) -> None:
    """REG-2: no connector configured, so the registration stays in progress."""
    client = esa.gui()
    enable_and_commit(client)
    esa.advance(BUSY_SECONDS)
    client.get(PAGE)
    response = client.submit(PAGE + "/register", token="8e789d60b6ced63875353d177f25ab0e", action="register")
    text = page_text(response.text)
    assert msg.REGISTER_INITIATED in text
    assert f"Status: {msg.STATUS_IN_PROGRESS}" in text
    assert "Threat Response: Enabled" in text


def test_register_with_an_empty_token_is_refused(esa: SimAppliance) -> None:
    client = esa.gui()
    enable_and_commit(client)
    esa.advance(BUSY_SECONDS)
    client.get(PAGE)
    text = page_text(client.submit(PAGE + "/register", token="  ").text)
    assert msg.EMPTY_TOKEN in text and "Registration Token:" in text


def test_failed_registration_shows_the_reason_and_the_token_field(esa: SimAppliance) -> None:
    """TS-4: the failure message and the token field again."""
    client = esa.gui()
    enable_and_commit(client)
    esa.advance(BUSY_SECONDS)
    client.get(PAGE)
    client.submit(PAGE + "/register", token="0" * 32)
    esa.call(esa.appliance.connector_result, "register", False, None, msg.REGISTRATION_FAILED_TOKEN)
    text = client.text(PAGE)
    assert msg.REGISTRATION_FAILED_TOKEN in text and "Registration Token:" in text


def test_registered_page_has_deregister_but_no_reregister_in_ctr_era(esa: SimAppliance) -> None:
    """REG-5."""
    esa.call(setattr, esa.appliance, "connector", instant_cloud)
    client = esa.gui()
    enable_and_commit(client)
    esa.advance(BUSY_SECONDS)
    client.get(PAGE)
    client.submit(PAGE + "/register", token="8e789d60b6ced63875353d177f25ab0e")
    html = client.get(PAGE).text
    text = page_text(html)
    assert msg.registered("Email Security appliance") in text
    assert "Deregister" in text and "Reregister" not in text
    assert client.get(PAGE + "/reregister").status_code == 404
    response = client.submit(PAGE + "/deregister", action="deregister")
    assert msg.DEREGISTER_INITIATED in page_text(response.text)
    assert esa.appliance.state is RegState.AWAITING_TOKEN


def test_abandon_changes(esa: SimAppliance) -> None:
    client = esa.gui()
    client.get(EDIT)
    client.submit(EDIT, enabled="on", server="EUROPE")
    client.get("/commit?referrer=" + PAGE)
    response = client.submit("/commit", action="abandon", referrer=PAGE)
    text = page_text(response.text)
    assert msg.CHANGES_ABANDONED in text
    assert "Threat Response: Disabled" in text and msg.NO_CHANGES_PENDING in text
    assert "Threat Response: Enable" in client.text(EDIT)
    assert 'value="on" checked' not in client.get(EDIT).text


def test_commit_errors_are_shown(esa: SimAppliance) -> None:
    client = esa.gui()
    client.get(EDIT)
    client.submit(EDIT, enabled="on")
    esa.call(setattr, esa.appliance.faults, "refuse_commit", True)
    client.get("/commit?referrer=" + PAGE)
    response = client.submit("/commit", action="commit", referrer=PAGE)
    assert response.status_code == 409
    assert msg.COMMIT_REFUSED in page_text(response.text)
    assert esa.appliance.has_pending


def test_commit_with_nothing_pending(esa: SimAppliance) -> None:
    client = esa.gui()
    assert msg.NOTHING_TO_COMMIT in client.text("/commit")
    client.get("/commit")
    response = client.submit("/commit", action="commit", referrer=PAGE)
    assert msg.NOTHING_TO_COMMIT in page_text(response.text)


@pytest.mark.parametrize("referrer", ["https://evil.example/", "//evil.example/x"])
def test_commit_never_redirects_off_the_appliance(esa: SimAppliance, referrer: str) -> None:
    client = esa.gui()
    client.get(EDIT)
    client.submit(EDIT, enabled="on")
    client.get("/commit")
    response = client.submit("/commit", action="commit", referrer=referrer, allow_redirects=False)
    assert response.headers["Location"] == PAGE


def test_navigation_reaches_cloud_service_settings(esa: SimAppliance) -> None:
    client = esa.gui()
    html = client.get("/network").text
    assert f'href="{PAGE}"' in html
    for item in ("IP Interfaces", "Listeners", "SMTP Routes", "Cloud Service Settings", "CRL Sources"):
        assert item in page_text(html)
