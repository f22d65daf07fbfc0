"""AsyncOSRest and SmtpSender against the simulator's REST API (HTTPS) and SMTP listener: a mail sent
over SMTP is found through the tracking API (VER-4), with the API's real parameter names."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness.appliance.rest import AsyncOSRest, api_date
from harness.appliance.smtp import SmtpSender, send_mail
from harness.errors import AuthenticationFailed, LabUnreachable
from tests.support.loop import BackgroundLoop
from tests.support.servers import serve_app

rest_api = pytest.importorskip("virtual_appliances.asyncos.rest_api", reason="simulator REST API not there yet")
smtp_sim = pytest.importorskip("virtual_appliances.asyncos.smtp", reason="simulator SMTP listener not there yet")
model = pytest.importorskip("virtual_appliances.asyncos.model")
clock_mod = pytest.importorskip("virtual_appliances.common.clock")
redact = pytest.importorskip("virtual_appliances.common.redact")

PASSWORD = "api-Passw0rd-123"


@dataclass
class Sim:
    appliance: Any
    api_url: str
    smtp_port: int
    ca: str

    def rest(self, **options: Any) -> AsyncOSRest:
        clock = self.appliance.clock.now  # the appliance's "now" (the plugin asks the lab's control plane)
        return AsyncOSRest(self.api_url, "admin", options.pop("password", PASSWORD), name="esa1", verify=self.ca,
                           kind=self.appliance.spec.kind.value, clock=clock, **options)


@pytest.fixture(params=["esa", "sma"])
def sim(request: pytest.FixtureRequest, bg: BackgroundLoop, lab_ca: Any) -> Iterator[Sim]:
    spec = model.ApplianceSpec(name="esa1", hostname="esa1.example.com", kind=request.param)
    start = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)  # mid-minute: the API dates must still be whole minutes
    appliance = model.Appliance(spec, clock_mod.SimClock(speed=1.0, start=start), PASSWORD)
    runner, port = bg.run(serve_app(rest_api.api_app(appliance, redact.Redactor()),
                                    lab_ca.server_context("127.0.0.1")))
    listener = bg.run(smtp_sim.start_smtp(appliance, "127.0.0.1", 0))
    yield Sim(appliance, f"https://127.0.0.1:{port}", listener.port, str(lab_ca.bundle))
    bg.run(listener.stop())
    bg.run(runner.cleanup())


def test_api_dates_are_whole_minutes() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 30, 500, tzinfo=UTC)
    assert api_date(moment) == "2026-03-01T12:00:00.000Z"
    assert api_date(moment, round_up=True) == "2026-03-01T12:01:00.000Z"
    assert api_date(moment.replace(second=0, microsecond=0), round_up=True) == "2026-03-01T12:00:00.000Z"


def test_jwt_login_and_health(sim: Sim) -> None:
    rest = sim.rest()
    assert rest.login() == "jwt"
    assert rest.health()["data"]
    assert "e_message_tracking_messages" in rest.privileges()
    text = rest.transcript.render()
    assert PASSWORD not in text and "jwtToken: ***" in text


def test_basic_auth(sim: Sim) -> None:
    rest = sim.rest(auth="basic")
    assert rest.health()
    assert rest.method == "basic"
    assert "Authorization: ***" in rest.transcript.render()


def test_wrong_password(sim: Sim) -> None:
    with pytest.raises(AuthenticationFailed, match="Invalid username or passphrase"):
        sim.rest(password="wrong-one-here").login()


def test_an_expired_jwt_is_renewed_once(sim: Sim) -> None:
    rest = sim.rest()
    rest.login()
    rest._jwt = "eyJhbGciOiJIUzI1NiJ9.e30.invalid-signature"  # what an expired/rotated token looks like to us
    assert rest.health()
    assert rest.method == "jwt"


def test_mail_sent_over_smtp_is_found_by_subject(sim: Sim) -> None:
    sender = SmtpSender("127.0.0.1", sim.smtp_port, name="esa1", timeout=5)
    sent = sender.send("alice@example.com", ["bob@example.net"], "Invoice Due 42", message_id="123-abc-456@cisco.com",
                       attachments=[("invoice.pdf", b"%PDF-1.4 test")])
    assert sent.message_id == "<123-abc-456@cisco.com>" and sent.message_id_bare == "123-abc-456@cisco.com"
    assert sent.mid is not None
    found = sim.rest().tracking_messages(subject="Invoice Due")  # begins_with by default
    assert [r.mid for r in found] == [sent.mid]
    record = found[0]
    assert record.sender == "alice@example.com" and record.recipients == ["bob@example.net"]
    assert record.subject == "Invoice Due 42"
    assert record.message_ids[str(sent.mid)] == "<123-abc-456@cisco.com>"
    assert record.raw["attachments"][0]["name"] == "invoice.pdf"
    assert sim.rest().tracking_messages(subject="Due", subject_operator="contains")
    assert not sim.rest().tracking_messages(subject="Due")  # does not begin with it
    assert sim.rest().tracking_messages(message_id="<123-abc-456@cisco.com>")
    details = sim.rest().tracking_details(sent.mid)
    assert details["subject"] == "Invoice Due 42"


def test_tracking_window_is_relative_to_the_appliance_clock(sim: Sim) -> None:
    mid = SmtpSender("127.0.0.1", sim.smtp_port, timeout=5).send("a@example.com", ["b@example.com"], "clock").mid
    sim.appliance.clock.advance(3 * 3600)  # the lab's clock runs ahead of this machine's
    rest = sim.rest()
    assert [r.mid for r in rest.tracking_messages(subject="clock")] == [mid]
    assert rest.tracking_messages(subject="clock", window=timedelta(hours=1)) == []


def test_pages_are_followed(sim: Sim) -> None:
    sender = SmtpSender("127.0.0.1", sim.smtp_port, timeout=5)
    for i in range(5):
        sender.send("a@example.com", ["b@example.com"], f"page test {i}")
    assert len(sim.rest().tracking_messages(subject="page test", limit=2)) == 5


def test_send_mail_helper_returns_the_message_id(sim: Sim) -> None:
    message_id = send_mail("127.0.0.1", sim.smtp_port, "a@example.com", ["b@example.com"], "helper", timeout=5)
    assert message_id.startswith("<") and message_id.endswith("@example.com>")


def test_smtp_nothing_listening_is_lab_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LabUnreachable):
        SmtpSender("127.0.0.1", port, timeout=2, connect_attempts=2).send("a@x.test", ["b@x.test"], "s")


def test_without_a_clock_the_appliance_date_header_sets_the_window(bg: BackgroundLoop, lab_ca: Any) -> None:
    """A lab appliance whose clock is hours ahead of ours: its Date header tells the driver so."""
    from email.utils import format_datetime

    from aiohttp import web

    spec = model.ApplianceSpec(name="esa9", hostname="esa9.example.com")
    appliance = model.Appliance(spec, clock_mod.SimClock(speed=1.0), PASSWORD)
    appliance.clock.advance(6 * 3600)

    @web.middleware
    async def appliance_date(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        response.headers["Date"] = format_datetime(appliance.clock.now(), usegmt=True)
        return response

    runner, port = bg.run(serve_app(rest_api.api_app(appliance, redact.Redactor(), middlewares=[appliance_date]),
                                    lab_ca.server_context("127.0.0.1")))
    listener = bg.run(smtp_sim.start_smtp(appliance, "127.0.0.1", 0))
    try:
        mid = SmtpSender("127.0.0.1", listener.port, timeout=5).send("a@example.com", ["b@example.com"], "skew").mid
        for auth in ("jwt", "basic"):
            rest = AsyncOSRest(f"https://127.0.0.1:{port}", "admin", PASSWORD, verify=str(lab_ca.bundle), auth=auth)
            assert abs(rest.appliance_now() - appliance.clock.now()) < timedelta(seconds=5)
            assert [r.mid for r in rest.tracking_messages(subject="skew", window=timedelta(hours=1))] == [mid]
    finally:
        bg.run(listener.stop())
        bg.run(runner.cleanup())
