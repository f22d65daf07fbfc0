"""Clients and helpers for the web tests: everything talks to the simulator over HTTPS or SMTP."""

from __future__ import annotations

import base64
import email.policy
import re
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import requests
from aiohttp import web

from tests.support.loop import BackgroundLoop
from virtual_appliances.asyncos.gui.context import GUI
from virtual_appliances.asyncos.model import Appliance
from virtual_appliances.common.clock import SimClock
from virtual_appliances.common.redact import Redactor
from virtual_appliances.common.reqlog import RequestLog

T = TypeVar("T")
TIMEOUT = 10.0  # seconds, for every network call of the tests
_CSRF = re.compile(r'name="CSRFKey" value="([^"]+)"')


class HttpClient(requests.Session):
    """A requests session bound to one base URL, verifying the lab CA, with a default timeout."""

    def __init__(self, base_url: str, ca_bundle: Path) -> None:
        super().__init__()
        self.base_url = base_url
        self.verify = str(ca_bundle)
        # Why: with trust_env, REQUESTS_CA_BUNDLE and proxy variables would override the lab CA.
        self.trust_env = False

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        if isinstance(url, str) and url.startswith("/"):
            url = self.base_url + url
        return super().request(method, url, *args, **kwargs)


class GuiClient(HttpClient):
    """Remembers the CSRFKey of the last page, as a browser keeps it in the page's forms."""

    csrf: str = ""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(method, url, *args, **kwargs)
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def login(self, password: str, username: str = "admin") -> requests.Response:
        self.get("/login")
        return self.post("/login", data={"username": username, "password": password, "CSRFKey": self.csrf,
                                         "action": "Login", "screen": "login", "referrer": ""})

    def submit(self, path: str, allow_redirects: bool = True, **fields: str) -> requests.Response:
        """POST a form of the current page (with its CSRFKey), following the redirect unless told not to."""
        return self.post(path, data={"CSRFKey": self.csrf, **fields}, allow_redirects=allow_redirects)

    def text(self, path: str) -> str:
        response = self.get(path)
        response.raise_for_status()
        return page_text(response.text)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The visible text of a page, whitespace collapsed, one space between elements."""
    parser = _TextParser()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def select_options(html: str, name: str) -> list[tuple[str, bool]]:
    """(label, selected) of each option of the named select."""
    block = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', html, re.S)
    assert block, f"no select {name!r} on the page"
    return [(label, bool(sel)) for sel, label in
            re.findall(r'<option value="[^"]*"( selected)?>([^<]*)</option>', block.group(1))]


def basic_auth(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def api_date(moment: Any) -> str:
    """The REST date format, seconds forced to 00."""
    return moment.strftime("%Y-%m-%dT%H:%M:00.000Z")


def wait_until(predicate: Callable[[], T], timeout: float = TIMEOUT, interval: float = 0.05) -> T:
    """Poll until ``predicate()`` is truthy; its last value on timeout is an assertion failure."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(interval)


@dataclass
class SimAppliance:
    """One simulated appliance with its GUI, API and SMTP listeners on a background loop."""

    appliance: Appliance
    clock: SimClock
    loop: BackgroundLoop
    ca_bundle: Path
    redactor: Redactor
    reqlog: RequestLog
    gui_app: web.Application | None = None
    gui_url: str = ""
    api_url: str = ""
    smtp_port: int = 0
    _stoppers: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def password(self) -> str:
        return self.appliance.password

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the simulator's loop: the model is not thread-safe."""

        async def run() -> T:
            return fn(*args)

        return self.loop.run(run(), timeout=TIMEOUT)

    def gui_sessions(self) -> int:
        """How many GUI sessions the appliance stores."""
        assert self.gui_app is not None
        return self.call(lambda: len(self.gui_app[GUI].sessions))  # type: ignore[index]

    def advance(self, seconds: float) -> None:
        self.call(self.clock.advance, seconds)

    def gui(self, login: bool = True) -> GuiClient:
        client = GuiClient(self.gui_url, self.ca_bundle)
        if login:
            response = client.login(self.password)
            assert response.ok and "Log Out" in response.text, response.text[:500]
        return client

    def api(self) -> HttpClient:
        return HttpClient(self.api_url, self.ca_bundle)

    def send_mail(self, message: EmailMessage, sender: str, recipients: list[str]) -> tuple[int, bytes]:
        """Send through the SMTP listener; returns the DATA reply (code, text)."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=TIMEOUT) as smtp:
            smtp.ehlo("client.example.com")
            smtp.mail(sender)
            for rcpt in recipients:
                smtp.rcpt(rcpt)
            return smtp.data(message.as_bytes(policy=email.policy.SMTP))  # CRLF line ends on the wire

    async def stop(self) -> None:
        for stop in reversed(self._stoppers):
            await stop()


async def serve(app: web.Application, tls: Any) -> tuple[int, Callable[[], Any]]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls).start()
    port = runner.addresses[0][1]
    return port, runner.cleanup


Factory = Callable[..., SimAppliance]  # the make_appliance fixture


def instant_cloud(appliance: Appliance, action: str, params: dict) -> None:
    """Stands in for SSE in GUI tests: every connector job succeeds at once."""
    appliance.connector_result(action, ok=True, device_id=str(uuid.uuid4()))


def make_mail(subject: str, sender: str = "mgmt01@cisco.com", to: str = "testingBren@cisco.com",
              attachments: list[tuple[str, bytes]] | None = None, message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    message.set_content("test body\n")
    for name, data in attachments or []:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message

