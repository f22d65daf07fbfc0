"""harness.http and harness.transcript: timeouts, connect-only retries, masking, sinks."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests
from aiohttp import web

from harness.errors import DriverTimeout, LabUnreachable
from harness.http import HttpSession, html_to_text, make_session
from harness.transcript import MASK, Transcript, mask_form, mask_json
from tests.support.loop import BackgroundLoop
from tests.support.servers import serve_app


class Counter:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}

    def hit(self, name: str) -> None:
        self.hits[name] = self.hits.get(name, 0) + 1


@pytest.fixture
def server(bg: BackgroundLoop) -> Iterator[tuple[str, Counter]]:
    counter = Counter()

    async def status(request: web.Request) -> web.Response:
        counter.hit("status")
        code = int(request.match_info["code"])
        return web.json_response({"error": "nope", "access_token": "tok-abcdef123"}, status=code)

    async def slow(request: web.Request) -> web.Response:
        import asyncio

        await asyncio.sleep(0.8)
        return web.Response(text="late")

    async def echo(request: web.Request) -> web.Response:
        counter.hit("echo")
        body = await request.text()
        return web.json_response({"got": body}, headers={"Set-Cookie": "sid=secret-session-id; Path=/"})

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPSeeOther("/page")

    async def page(request: web.Request) -> web.Response:
        html = ("<html><head><style>b{}</style></head><body><h1>Title</h1><p>Hello <b>there</b></p>"
                '<input type="text" name="token" value="abcd-secret-token"><input name="user" value="admin">'
                "</body></html>")
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.add_routes([web.get("/status/{code}", status), web.get("/slow", slow), web.post("/echo", echo),
                    web.get("/redirect", redirect), web.get("/page", page)])
    runner, port = bg.run(serve_app(app))
    yield f"http://127.0.0.1:{port}", counter
    bg.run(runner.cleanup())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_every_call_has_a_timeout(server: tuple[str, Counter]) -> None:
    url, _ = server
    session = make_session("slow thing", timeout=(1, 0.3))
    t0 = time.monotonic()
    with pytest.raises(DriverTimeout) as info:
        session.get(url + "/slow")
    assert time.monotonic() - t0 < 1.5
    assert info.value.what == "slow thing"
    assert "error:" in session.transcript.entries[-1].status


def test_http_errors_are_not_retried(server: tuple[str, Counter]) -> None:
    url, counter = server
    session = HttpSession("api", connect_retries=3)
    assert session.get(url + "/status/503").status_code == 503
    assert session.get(url + "/status/404").status_code == 404
    assert counter.hits["status"] == 2  # one request each: statuses are the caller's business


def test_connect_errors_are_retried_then_lab_unreachable() -> None:
    port = free_port()
    session = HttpSession("ghost", connect_retries=2, timeout=(1, 1))
    with pytest.raises(LabUnreachable) as info:
        session.get(f"http://127.0.0.1:{port}/x")
    assert info.value.endpoint == f"http://127.0.0.1:{port}"
    assert "Max retries exceeded" in str(info.value.cause) or "refused" in str(info.value.cause).lower()


def test_secrets_are_masked_in_the_record(server: tuple[str, Counter]) -> None:
    url, _ = server
    transcript = Transcript("t", mask=lambda s: s.replace("admin", "<user>"))
    session = HttpSession("api", transcript=transcript)
    session.post(url + "/echo?api_key=qs-secret-123", data={"username": "admin", "password": "pw-secret-1"},
                 headers={"Authorization": "Bearer eyJ.secret.jwt", "jwtToken": "eyJ.other"})
    session.get(url + "/status/401")
    text = transcript.render()
    secrets = ("pw-secret-1", "eyJ.secret.jwt", "eyJ.other", "secret-session-id", "tok-abcdef123", "qs-secret-123")
    for secret in secrets:
        assert secret not in text, secret
    assert "password=***" in text and "Authorization: ***" in text and "<user>" in text


def test_redirect_hops_are_recorded_and_html_is_text(server: tuple[str, Counter]) -> None:
    url, _ = server
    session = HttpSession("gui")
    response = session.get(url + "/redirect")
    assert response.status_code == 200
    kinds = [e.status for e in session.transcript.entries]
    assert kinds == ["303", "200"]
    page = session.transcript.entries[-1].response
    assert "Title" in page and "Hello there" in page and "<h1>" not in page and "b{}" not in page
    assert "abcd-secret-token" not in page and "[token=***]" in page


def test_transcript_secrets_sinks_and_bounds() -> None:
    seen: list[str] = []
    transcript = Transcript("t", sinks=[lambda e: seen.append(e.request)], max_entries=2, max_chars=50)

    def broken(_: object) -> None:
        raise RuntimeError("sink down")

    transcript.add_sink(broken)  # a failing sink never breaks the driver
    transcript.add_secret("s3cr3t-value", None, "ab")  # too short to mask safely: "ab" is ignored
    transcript.record("cli", "x", "h:1", "register s3cr3t-value", "ok ab " + "z" * 100)
    transcript.record("cli", "x", "h:1", "two", "")
    transcript.record("cli", "x", "h:1", "three", "")
    assert seen == [f"register {MASK}", "two", "three"]
    assert len(transcript) == 2
    first = Transcript("u")
    first.add_secret("s3cr3t-value")
    entry = first.record("cli", "x", "h", "Basic dXNlcjpwYXNz and s3cr3t-value", "y" * 70000)
    assert entry.request == f"Basic {MASK} and {MASK}"
    assert "more characters" in entry.response


def test_structured_masks() -> None:
    assert mask_json({"a": {"client_secret": "x", "list": [{"jwtToken": "y"}]}, "scope": "z"}) == \
        {"a": {"client_secret": MASK, "list": [{"jwtToken": MASK}]}, "scope": "z"}
    assert mask_form("username=admin&password=pw&CSRFKey=k") == "username=admin&password=***&CSRFKey=***"
    assert html_to_text("<p>a</p><script>x()</script><p>b</p>") == "a\nb"


def test_lab_unreachable_names_the_endpoint_for_reports() -> None:
    exc = LabUnreachable("esa1 GUI", "https://10.0.0.5:443", "ConnectionRefusedError")
    assert str(exc) == "esa1 GUI unreachable at https://10.0.0.5:443: ConnectionRefusedError"


def test_requests_exceptions_do_not_leak(server: tuple[str, Counter]) -> None:
    with pytest.raises(LabUnreachable) as info:
        HttpSession("x", connect_retries=0).get(f"http://127.0.0.1:{free_port()}/")
    assert isinstance(info.value.__cause__, requests.ConnectionError)
