"""Login, session and CSRF behaviour of the web GUI."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from virtual_appliances.asyncos import messages as msg

from .support import GuiClient, SimAppliance, page_text


def test_login_page_shows_the_appliance_and_a_csrf_key(esa: SimAppliance) -> None:
    client = esa.gui(login=False)
    response = client.get("/login")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Cisco C100V" in text and "Email Security Virtual Appliance" in text
    assert 'name="username"' in response.text and 'name="password"' in response.text
    assert client.csrf, "the login form carries a CSRFKey"


def test_login_with_the_right_password_opens_the_gui(esa: SimAppliance) -> None:
    client = esa.gui(login=False)
    response = client.login(esa.password)
    assert response.status_code == 200
    text = page_text(response.text)
    for tab in ("Monitor", "Mail Policies", "Security Services", "Network", "System Administration"):
        assert tab in text
    assert "Logged in as: admin" in text
    assert "Cisco C100V Email Security Virtual Appliance" in text


def test_wrong_password_shows_an_error_and_stays_on_login(esa: SimAppliance) -> None:
    client = esa.gui(login=False)
    response = client.login("not-the-password")
    assert response.status_code == 200
    assert urlsplit(response.url).path == "/login"
    assert msg.LOGIN_FAILED in page_text(response.text)
    assert client.get("/network/cloud_service_settings").url.split("?")[0].endswith("/login")


def test_login_without_the_csrf_key_is_refused(esa: SimAppliance) -> None:
    client = esa.gui(login=False)
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": esa.password})
    assert response.status_code == 403
    assert msg.CSRF_INVALID in page_text(response.text)


def test_pages_redirect_to_login_without_a_session(esa: SimAppliance) -> None:
    client = GuiClient(esa.gui_url, esa.ca_bundle)
    response = client.get("/network/cloud_service_settings", allow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["referrer"] == ["/network/cloud_service_settings"]


def test_login_returns_to_the_page_asked_for(esa: SimAppliance) -> None:
    client = GuiClient(esa.gui_url, esa.ca_bundle)
    client.get("/network/cloud_service_settings")  # -> login form with the referrer
    response = client.post("/login", data={"username": "admin", "password": esa.password, "CSRFKey": client.csrf,
                                           "referrer": "/network/cloud_service_settings"})
    assert urlsplit(response.url).path == "/network/cloud_service_settings"
    assert "Cloud Service Settings" in page_text(response.text)


def test_logout_ends_the_session(esa: SimAppliance) -> None:
    client = esa.gui()
    client.get("/logout")
    response = client.get("/network/cloud_service_settings", allow_redirects=False)
    assert response.status_code == 302


def test_posts_need_the_session_csrf_key(esa: SimAppliance) -> None:
    client = esa.gui()
    response = client.post("/network/cloud_service_settings/edit", data={"enabled": "on", "CSRFKey": "forged"})
    assert response.status_code == 403
    assert not esa.appliance.has_pending
