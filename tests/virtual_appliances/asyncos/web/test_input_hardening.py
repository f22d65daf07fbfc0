"""Issue 15 item 6: same-origin redirects only, sessions only after login, bounded JSON on the REST API."""

from __future__ import annotations

import http.client
import ssl
import time
from urllib.parse import urlsplit

import pytest

from virtual_appliances.asyncos.gui.sessions import SessionStore

from .support import TIMEOUT, GuiClient, SimAppliance, basic_auth

HOME = "/monitor"  # where an ESA login lands
ESA_API = "/esa/api/v2.0"

OFF_SITE = [
    "/\t/evil.example/",  # browsers drop tabs and newlines: this is //evil.example/
    "/\n/evil.example/",
    "/\r/evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    " /monitor",
    "/monitor\x00",
    "/monitor\x7f",
    "evil.example",
]


def _login_location(sim: SimAppliance, referrer: str) -> str:
    client = GuiClient(sim.gui_url, sim.ca_bundle)
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": sim.password, "CSRFKey": client.csrf,
                                           "referrer": referrer}, allow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return response.headers["Location"]


@pytest.mark.parametrize("referrer", OFF_SITE)
def test_login_referrer_off_the_appliance_goes_to_the_default_page(esa: SimAppliance, referrer: str) -> None:
    assert _login_location(esa, referrer) == HOME


def test_login_referrer_on_the_appliance_is_kept(esa: SimAppliance) -> None:
    page = "/network/cloud_service_settings?x=1"
    assert _login_location(esa, page) == page


@pytest.mark.parametrize("referrer", OFF_SITE[:4])
def test_a_logged_in_login_page_redirects_only_on_the_appliance(esa: SimAppliance, referrer: str) -> None:
    client = esa.gui()
    response = client.get("/login", params={"referrer": referrer}, allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == HOME


@pytest.mark.parametrize("referrer", OFF_SITE[:3])
def test_commit_referrer_stays_on_the_appliance(esa: SimAppliance, referrer: str) -> None:
    client = esa.gui()
    client.get("/network/cloud_service_settings/edit")
    client.submit("/network/cloud_service_settings/edit", enabled="on", server="AMERICAS")
    client.get("/commit")
    response = client.submit("/commit", action="commit", referrer=referrer, allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "/network/cloud_service_settings"


# ---- sessions ------------------------------------------------------------------------------------
def test_anonymous_login_pages_store_no_session(esa: SimAppliance) -> None:
    """5,000 anonymous GET /login: no session cookie handed out, nothing stored; login still works."""
    url = urlsplit(esa.gui_url)
    tls = ssl.create_default_context(cafile=str(esa.ca_bundle))
    conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=TIMEOUT, context=tls)  # keep-alive: no
    started = time.monotonic()  # cookies are kept, so every request is a new visitor
    try:
        for _ in range(5000):
            conn.request("GET", "/login")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert not any(c.startswith("sid=") for c in response.headers.get_all("Set-Cookie") or [])
    finally:
        conn.close()
    elapsed = time.monotonic() - started
    assert esa.gui_sessions() == 0
    print(f"5000 anonymous /login: {elapsed:.1f}s ({5000 / elapsed:.0f} req/s)")
    esa.gui()  # a real login after all that still works ...
    assert esa.gui_sessions() == 1  # ... and is the one session stored


def test_failed_login_stores_no_session(esa: SimAppliance) -> None:
    client = esa.gui(login=False)
    client.login("wrong")
    assert "sid" not in client.cookies
    assert esa.gui_sessions() == 0


def test_login_form_key_survives_other_anonymous_pages(esa: SimAppliance) -> None:
    """A browser fetches /favicon.ico (sent to the login page) between showing the form and posting it."""
    client = GuiClient(esa.gui_url, esa.ca_bundle)
    client.get("/login")
    key = client.csrf
    client.get("/favicon.ico")
    response = client.post("/login", data={"username": "admin", "password": esa.password, "CSRFKey": key},
                           allow_redirects=False)
    assert response.status_code == 303


def test_login_form_key_cannot_be_forged(esa: SimAppliance) -> None:
    """The login form's key is checked without a stored session: a made-up one is refused."""
    client = GuiClient(esa.gui_url, esa.ca_bundle)
    client.cookies.set("login_csrf", "abc.def", domain="127.0.0.1")
    response = client.post("/login", data={"username": "admin", "password": esa.password, "CSRFKey": "abc.def"})
    assert response.status_code == 403
    assert esa.gui_sessions() == 0


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_session_store_expires_idle_sessions_lazily() -> None:
    clock = _Clock()
    store = SessionStore(idle_s=60, limit=100, now=clock)
    old = store.new("admin")
    clock.now += 30
    kept = store.new("admin")
    clock.now += 45  # old idle 75 s, kept idle 45 s
    assert store.get(old.sid) is None
    assert store.get(kept.sid) is kept
    store.new("admin")
    assert len(store) == 2  # the expired one was dropped on the way


def test_session_store_is_bounded_and_drops_the_least_recently_used() -> None:
    clock = _Clock()
    store = SessionStore(idle_s=3600, limit=3, now=clock)
    first, second, third = (store.new("admin") for _ in range(3))
    clock.now += 1
    assert store.get(first.sid) is first  # used: now the most recent
    store.new("admin")
    assert len(store) == 3
    assert store.get(second.sid) is None
    assert store.get(first.sid) is first and store.get(third.sid) is third


def test_session_store_cost_does_not_grow_with_its_size() -> None:
    """Creating a session is O(1) amortised: 10x the sessions, not 10x the time per session (the old store
    scanned every session on each new one). Best of three runs, so a busy machine does not decide."""
    def per_new(count: int) -> float:
        best = float("inf")
        for _ in range(3):
            store = SessionStore(idle_s=3600, limit=1_000_000)
            started = time.perf_counter()
            for _ in range(count):
                store.new("admin")
            best = min(best, (time.perf_counter() - started) / count)
        return best

    small, large = per_new(2_000), per_new(20_000)
    assert large < small * 4, (small, large)


# ---- REST API ------------------------------------------------------------------------------------
def _post_raw(sim: SimAppliance, path: str, body: bytes) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **basic_auth("admin", sim.password)}
    response = sim.api().post(ESA_API + path, data=body, headers=headers)
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    return response.status_code, response.json()


@pytest.mark.parametrize("path", ["/login", "/message-tracking/remediation"])
def test_deep_json_is_a_400_naming_the_limit(esa: SimAppliance, path: str) -> None:
    status, body = _post_raw(esa, path, b"[" * 100_000 + b"]" * 100_000)
    assert status == 400
    assert "nesting" in body["error"]["message"] and "64" in body["error"]["message"]


def test_deep_json_inside_strings_is_not_nesting(esa: SimAppliance) -> None:
    """Brackets inside a JSON string are text: such a body reaches the handler (here: bad credentials)."""
    status, _ = _post_raw(esa, "/login", b'{"data": {"userName": "' + b"[" * 1000 + b'"}}')
    assert status == 401


def test_json_at_the_depth_limit_is_read(esa: SimAppliance) -> None:
    status, body = _post_raw(esa, "/login", b"[" * 64 + b"]" * 64)
    assert status == 401, body  # parsed, then refused as credentials


def test_oversized_body_is_a_400_naming_the_limit(esa: SimAppliance) -> None:
    status, body = _post_raw(esa, "/login", b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    assert status == 400
    assert "bytes" in body["error"]["message"]


def test_redirect_location_is_relative(esa: SimAppliance) -> None:
    location = _login_location(esa, "/network/cloud_service_settings")
    assert not urlsplit(location).netloc and not urlsplit(location).scheme
