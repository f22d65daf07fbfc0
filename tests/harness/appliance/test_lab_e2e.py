"""Every driver against the whole bundled lab, started as ``python -m virtual_appliances.lab``.

The test knows the lab only through the testbed it writes (and the control plane's clock, the
appliance's "now"), exactly as the harness knows real gear: the documented procedure end to end,
enable (CLI) -> token (SSE) -> register (GUI) -> device lists (SSE, CTR) -> module (CTR) -> test mail
(SMTP) -> tracking (REST, GUI) -> investigate (CTR) -> casebook -> deregister (GUI).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import yaml

from harness.appliance import AsyncOSCli, AsyncOSGui, AsyncOSRest, SmtpSender
from harness.cloud import (
    SseAdmin,
    StaticTokenSource,
    ThreatResponseClient,
    TokensExhausted,
    TokenSource,
    token_source,
)
from harness.errors import ApiError, AuthenticationFailed
from harness.transcript import Transcript
from tests.support.ssh_trust import from_testbed_dict

pytest.importorskip("virtual_appliances.lab", reason="the bundled lab is not there yet")

T = TypeVar("T")
START_DEADLINE_S = 60


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("lab")
    out = workdir / "tb.yaml"
    log = (workdir / "lab.log").open("w")
    # The drivers wait as on real gear: the lab's appliance events fire by themselves (lab time, 1x otherwise).
    proc = subprocess.Popen([sys.executable, "-m", "virtual_appliances.lab", "--appliances", "1", "--autojump", "0.1",
                             "--testbed-out", str(out), "--dir", str(workdir / "state")],
                            stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[3])
    try:
        wait_until(lambda: out.exists() or proc.poll() is not None, START_DEADLINE_S, 0.05, "the lab's testbed")
        if proc.poll() is not None:
            pytest.fail(f"the lab exited with {proc.returncode}: {(workdir / 'lab.log').read_text()[-2000:]}")
        yield yaml.safe_load(out.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)  # only the process this fixture started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def wait_until(check: Callable[[], T], deadline_s: float, interval_s: float, what: str) -> T:
    """Poll to a deadline (the testbed's), never a fixed sleep."""
    end = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"waited {deadline_s:.1f}s for {what}")
        threading.Event().wait(min(interval_s, left))  # the poll interval, never past the deadline


class Lab:
    def __init__(self, tb: dict[str, Any]) -> None:
        self.tb = tb
        self.transcript = Transcript("e2e")
        self.ca = tb["network"]["ca_bundle"]
        self.device = tb["devices"]["esa1"]
        self.conn = self.device["connections"]
        self.password = self.device["credentials"]["default"]["password"]
        self.deadlines = tb["deadlines"]
        region = tb["cloud"]["region"]
        self.sse = SseAdmin(**tb["cloud"]["sse"][region], region=region, verify=self.ca, transcript=self.transcript)
        self.ctr = ThreatResponseClient.from_config(region, tb["cloud"]["ctr"][region], verify=self.ca,
                                                    transcript=self.transcript)

    def url(self, name: str) -> str:
        return f"https://{self.conn[name]['host']}:{self.conn[name]['port']}"

    def appliance_now(self) -> datetime:
        clock = requests.get(self.tb["testbed"]["simulator"]["control_url"] + "/_sim/clock", timeout=5).json()
        return datetime.fromisoformat(clock["now"])

    def cli(self) -> AsyncOSCli:
        return AsyncOSCli(self.conn["cli"]["host"], self.conn["cli"]["port"], "admin", self.password, name="esa1",
                          transcript=self.transcript, host_trust=from_testbed_dict(self.conn["cli"], "esa1"))

    def gui(self) -> AsyncOSGui:
        return AsyncOSGui(self.url("gui"), "admin", self.password, name="esa1", verify=self.ca,
                          transcript=self.transcript)

    def rest(self) -> AsyncOSRest:
        return AsyncOSRest(self.url("api"), "admin", self.password, kind=self.device["kind"], name="esa1",
                           verify=self.ca, transcript=self.transcript, clock=self.appliance_now)

    def smtp(self) -> SmtpSender:
        return SmtpSender(self.conn["smtp"]["host"], self.conn["smtp"]["port"], name="esa1",
                          transcript=self.transcript)

    def secrets(self) -> list[str]:
        cloud = self.tb["cloud"]
        return [self.password, *(c["client_secret"] for c in cloud["ctr"].values()),
                *(s["api_key"] for s in cloud["sse"].values())]


@pytest.fixture(scope="module")
def lab(testbed: dict[str, Any]) -> Lab:
    return Lab(testbed)


def test_sse_admin_tokens_and_cloud_services(lab: Lab) -> None:
    batch = lab.sse.generate_tokens(3, "2d")  # REG-1
    assert len(batch.tokens) == 3 and all(len(t) == 32 and int(t, 16) >= 0 for t in batch.tokens)
    assert batch.valid_hours == 48 and "valid for 48 hour(s)" in batch.message
    assert lab.sse.tokens_file(batch.batch_id).split() == batch.tokens
    with pytest.raises(ApiError) as info:
        lab.sse.generate_tokens(101)
    assert info.value.status == 400
    lab.sse.set_cloud_service(False)
    assert not lab.sse.cloud_service_enabled()
    lab.sse.set_cloud_service(True)
    assert lab.sse.cloud_service_enabled()
    text = lab.transcript.render()
    assert all(token not in text for token in batch.tokens)


def test_sse_admin_wrong_key(lab: Lab) -> None:
    region = lab.tb["cloud"]["region"]
    wrong = SseAdmin(lab.tb["cloud"]["sse"][region]["admin_url"], "not-the-key-123", verify=lab.ca)
    with pytest.raises(AuthenticationFailed):
        wrong.tenant()


def test_static_token_source_hands_out_each_token_once() -> None:
    source = StaticTokenSource(["a" * 32, "b" * 32])
    assert source.token() == "a" * 32
    assert source.tokens(1) == ["b" * 32]
    with pytest.raises(TokensExhausted):
        source.token()


def test_ctr_inspect_and_token_region(lab: Lab) -> None:
    found = lab.ctr.inspect('email_subject:"Invoice Due" ip:"4.2.2.2" domain:"cisco.com"')  # VER-6
    assert {"type": "email_subject", "value": "Invoice Due"} in found
    assert {"type": "ip", "value": "4.2.2.2"} in found
    assert "inspect:read" in lab.ctr.scopes
    other = next(r for r in lab.tb["cloud"]["ctr"] if r != lab.ctr.region)
    cfg = dict(lab.tb["cloud"]["ctr"][lab.ctr.region], base_url=lab.tb["cloud"]["ctr"][other]["base_url"])
    with pytest.raises(AuthenticationFailed):  # NAM credentials are unknown to the EU token service
        ThreatResponseClient.from_config(lab.ctr.region, cfg, verify=lab.ca).inspect("1.2.3.4")


def test_the_documented_procedure_end_to_end(lab: Lab) -> None:
    hostname = lab.device["hostname"]
    poll = lab.deadlines["poll_interval"]
    lab.sse.set_cloud_service(True)  # PRE-2

    # ENA-6: enable on the CLI and commit
    with lab.cli() as cli:
        assert "is currently enabled" in cli.converse("threatresponseconfig", ["enable"])
        assert "Changes committed:" in cli.commit("ctrlab e2e")

    # ENA-4: after "a few minutes" the Registration Token field appears (GUI)
    gui = lab.gui()
    busy = gui.cloud_service_settings()
    assert busy.value("Threat Response") == "Enabled"
    wait_until(lambda: gui.cloud_service_settings().button("Register"), lab.deadlines["cloud_ready"], poll,
               "the Register button")

    # REG-2: register with a token from SSE
    token = lab.sse.token()
    page = gui.register(token)
    assert any("A request to register your appliance" in m for m in page.messages_of("success"))
    wait_until(lambda: "successfully registered" in (gui.cloud_service_settings().value("Status") or ""),
               lab.deadlines["registration"], poll, "the registration")

    # VER-1 / VER-2: SSE and Threat Response list the appliance
    device = lab.sse.find_device(hostname)
    assert device is not None and device["status"] == "Registered" and device["type"] == "ESA"
    assert device["version"] == "13.0.0"
    assert device["id"] in [d["id"] for d in lab.ctr.devices()]

    # VER-3: an Email Security Appliance module for the registered device
    esa_type = next(t for t in lab.ctr.module_types() if t.get("title") == "Email Security Appliance")
    module = lab.ctr.create_module_instance(f"{hostname} Email Security Appliance", esa_type["id"],
                                            {"registered_device": device["id"]})
    try:
        # VER-4: a test mail, found in message tracking (REST, then GUI "Begins With")
        subject = f"test test {uuid.uuid4().hex[:8]}"
        sent = lab.smtp().send("sender@example.com", ["user@example.net"], subject)
        rest = lab.rest()
        records = wait_until(lambda: rest.tracking_messages(subject=subject), lab.deadlines["mail_tracked"], poll,
                             "the test mail in tracking")
        assert records[0].mid == sent.mid and records[0].last_state
        rows = gui.track_messages(subject=subject[:9])
        assert any(r.mid == sent.mid and r.subject == subject for r in rows)

        # VER-5: investigate the subject in Threat Response
        observed = lab.ctr.observe([("email_subject", subject)])
        mine = [d for d in observed.get("data", []) if d.get("module_instance_id") == module["id"]]
        assert mine, observed
        sightings = mine[0]["data"]["sightings"]["docs"]
        assert sightings and sightings[0]["confidence"] == "High" and sightings[0]["severity"] == "Low"

        # RIB-4: a casebook with the observable, texts, then removed
        book = lab.ctr.create_casebook("ctrlab e2e", "from the driver test", [("email_subject", subject)])
        lab.ctr.add_observables(book["id"], [("ip", "4.2.2.2")])
        lab.ctr.casebook_texts(book["id"], "add", [{"type": "markdown", "text": "a note"}])
        assert {"type": "ip", "value": "4.2.2.2"} in lab.ctr.casebook(book["id"])["observables"]
        lab.ctr.remove_observables(book["id"], [("ip", "4.2.2.2")])
        assert {"type": "ip", "value": "4.2.2.2"} not in lab.ctr.casebook(book["id"])["observables"]
        lab.ctr.delete_casebook(book["id"])
    finally:
        lab.ctr.delete_module_instance(module["id"])

    # REG-5: deregister from the GUI
    gui.deregister()
    wait_until(lambda: gui.cloud_service_settings().button("Register"), lab.deadlines["deregistration"], poll,
               "the deregistration")

    # Nothing secret reached the transcript on the way
    text = lab.transcript.render()
    for secret in [*lab.secrets(), token]:
        assert secret not in text
    assert {e.kind for e in lab.transcript.entries} >= {"cli", "http", "smtp"}


def test_token_source_from_the_testbed(lab: Lab) -> None:
    region = lab.tb["cloud"]["region"]
    source = token_source(lab.tb["cloud"]["sse"][region], region=region, verify=lab.ca)
    assert isinstance(source, SseAdmin) and isinstance(source, TokenSource)
    assert len(source.tokens(2, "1h")) == 2
    static = token_source({"token": "f" * 32})
    assert isinstance(static, StaticTokenSource) and static.tokens() == ["f" * 32]
    with pytest.raises(ValueError, match="neither"):
        token_source({})
