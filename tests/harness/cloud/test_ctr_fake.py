"""ThreatResponseClient against a small aiohttp fake of IROH: token caching, 401 refresh, 429 back-off."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from harness.cloud.ctr import ThreatResponseClient, short_id
from harness.errors import ApiError, AuthenticationFailed, RateLimited
from tests.support.loop import BackgroundLoop
from tests.support.servers import serve_app

CLIENT_ID = "client-00000000-0000-0000-0000-000000000000"
SECRET = "fake-client-secret-xyz"


@dataclass
class FakeIroh:
    expires_in: int = 600
    issued: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    reject_next: int = 0  # answer 401 to this many calls even with a valid token
    throttle: list[str] = field(default_factory=list)  # Retry-After values for the next calls ("" = none)
    calls: int = 0
    grant_bodies: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.post("/iroh/oauth2/token", self.token),
                        web.post("/iroh/iroh-inspect/inspect", self.inspect),
                        web.get("/iroh/iroh-sse/device", self.devices),
                        web.post("/ctia/casebook/{id}/observables", self.casebook_observables)])
        return app

    async def token(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        self.grant_bodies.append(await request.text())
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "invalid_client", "error_description": "bad credentials"}, status=401)
        token = f"tok-{len(self.issued) + 1:04d}-abcdef"
        self.issued.append(token)
        self.valid.add(token)
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": self.expires_in,
                                  "scope": "inspect:read enrich:read casebook"})

    def _gate(self, request: web.Request) -> web.Response | None:
        self.calls += 1
        if self.throttle:
            value = self.throttle.pop(0)
            headers = {"X-Ratelimit-Org-Limit": "8000"}
            if value:
                headers["Retry-After"] = value
            return web.Response(status=429, text="Too Many Requests", headers=headers)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.reject_next or token not in self.valid:
            self.reject_next = max(0, self.reject_next - 1)
            return web.json_response({"error": "invalid_request", "error_description": "JWT expired"}, status=401)
        return None

    async def inspect(self, request: web.Request) -> web.Response:
        if (denied := self._gate(request)) is not None:
            return denied
        body = await request.json()
        return web.json_response([{"type": "ip", "value": body["content"]}])

    async def devices(self, request: web.Request) -> web.Response:
        if (denied := self._gate(request)) is not None:
            return denied
        return web.json_response({"error": "missing_scope", "missing-scopes": ["sse"]}, status=403)

    async def casebook_observables(self, request: web.Request) -> web.Response:
        if (denied := self._gate(request)) is not None:
            return denied
        body = await request.json()
        return web.json_response({"id": request.match_info["id"], "operation": body["operation"],
                                  "observables": body["observables"]})


@pytest.fixture
def iroh(bg: BackgroundLoop) -> Iterator[tuple[FakeIroh, str]]:
    fake = FakeIroh()
    runner, port = bg.run(serve_app(fake.app()))
    yield fake, f"http://127.0.0.1:{port}"
    bg.run(runner.cleanup())


def client(url: str, **options: object) -> ThreatResponseClient:
    return ThreatResponseClient(CLIENT_ID, SECRET, region="nam", base_url=url, intel_url=url, **options)


def test_client_credentials_token_is_cached(iroh: tuple[FakeIroh, str]) -> None:
    fake, url = iroh
    ctr = client(url)
    assert ctr.inspect("1.2.3.4") == [{"type": "ip", "value": "1.2.3.4"}]
    assert ctr.inspect("5.6.7.8")
    assert fake.issued == ["tok-0001-abcdef"]  # one token for both calls
    assert fake.grant_bodies == ["grant_type=client_credentials"]
    assert ctr.scopes == ["inspect:read", "enrich:read", "casebook"]


def test_expired_token_by_expires_in_is_fetched_again(iroh: tuple[FakeIroh, str]) -> None:
    fake, url = iroh
    fake.expires_in = 0  # expires at once: every call needs a new token
    ctr = client(url)
    ctr.inspect("a")
    ctr.inspect("b")
    assert len(fake.issued) == 2


def test_401_refreshes_the_token_once(iroh: tuple[FakeIroh, str]) -> None:
    fake, url = iroh
    ctr = client(url)
    ctr.inspect("warm up")
    fake.reject_next = 1  # "expect a 401 even from a totally valid JWT"
    assert ctr.inspect("again")
    assert len(fake.issued) == 2


def test_401_twice_is_authentication_failed(iroh: tuple[FakeIroh, str]) -> None:
    fake, url = iroh
    ctr = client(url)
    fake.reject_next = 2
    with pytest.raises(AuthenticationFailed, match="JWT expired"):
        ctr.inspect("x")
    assert len(fake.issued) == 2  # refreshed once, not in a loop


def test_bad_client_credentials(iroh: tuple[FakeIroh, str]) -> None:
    _, url = iroh
    ctr = ThreatResponseClient(CLIENT_ID, "wrong-secret-123", base_url=url, intel_url=url)
    with pytest.raises(AuthenticationFailed, match="invalid_client"):
        ctr.inspect("x")
    assert "wrong-secret-123" not in ctr.transcript.render()


def test_429_retry_after_is_honoured(iroh: tuple[FakeIroh, str]) -> None:
    fake, url = iroh
    ctr = client(url)
    ctr.token()
    fake.throttle = ["0.3", "0.3"]
    t0 = time.monotonic()
    assert ctr.inspect("x")
    elapsed = time.monotonic() - t0
    assert 0.6 <= elapsed < 3, elapsed  # waited what the API asked, no more
    assert fake.calls == 3


def test_429_beyond_the_deadline_gives_up_at_once_with_a_clear_error(iroh: tuple[FakeIroh, str]) -> None:
    fake, url = iroh
    ctr = client(url, rate_limit_deadline=5)
    ctr.token()
    fake.throttle = ["3557"]  # the documented example
    t0 = time.monotonic()
    with pytest.raises(RateLimited, match="retry after 3557s") as info:
        ctr.inspect("x")
    assert time.monotonic() - t0 < 1  # no pointless waiting
    assert info.value.status == 429 and "X-Ratelimit-Org-Limit: 8000" in info.value.body


def test_429_without_retry_after_backs_off_within_the_deadline(iroh: tuple[FakeIroh, str]) -> None:
    fake, url = iroh
    ctr = client(url, rate_limit_deadline=0.5)
    ctr.token()
    fake.throttle = ["", "", "", ""]
    t0 = time.monotonic()
    with pytest.raises(RateLimited):
        ctr.inspect("x")
    assert time.monotonic() - t0 < 0.5 + 1.0  # the waits (full jitter) stay within the budget
    assert fake.calls <= 1 + ctr.retry.attempts


def test_other_statuses_are_api_errors_with_the_body(iroh: tuple[FakeIroh, str]) -> None:
    _, url = iroh
    with pytest.raises(ApiError) as info:
        client(url).devices()
    assert info.value.status == 403 and "missing_scope" in info.value.body


def test_casebook_ids_are_urls(iroh: tuple[FakeIroh, str]) -> None:
    _, url = iroh
    ctr = client(url)
    full = "https://private.intel.amp.cisco.com:443/ctia/casebook/casebook-25d3dd3e"
    assert short_id(full) == "casebook-25d3dd3e"
    out = ctr.add_observables(full, [("domain", "cisco.com"), {"type": "ip", "value": "4.2.2.2"}])
    assert out["id"] == "casebook-25d3dd3e" and out["operation"] == "add"
    assert out["observables"] == [{"type": "domain", "value": "cisco.com"}, {"type": "ip", "value": "4.2.2.2"}]


def test_tokens_never_reach_the_transcript(iroh: tuple[FakeIroh, str]) -> None:
    fake, url = iroh
    ctr = client(url)
    ctr.inspect("x")
    text = ctr.transcript.render()
    assert SECRET not in text
    assert all(token not in text for token in fake.issued)
    assert "access_token" in text  # the exchange itself is there, masked


def test_regions_default_to_the_documented_hosts() -> None:
    eu = ThreatResponseClient("id", "secret", region="eu")
    assert eu.base_url == "https://visibility.eu.amp.cisco.com"
    assert eu.intel_url == "https://private.intel.eu.amp.cisco.com"
    with pytest.raises(ValueError, match="unknown region"):
        ThreatResponseClient("id", "secret", region="ca")
