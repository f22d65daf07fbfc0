"""The whole lab, started as a user starts it, driven with plain protocol clients (asyncssh, requests,
smtplib): the documented chain, each troubleshooting cause set up through the control plane with its
documented symptom, and no secret in the simulators' logs."""

from __future__ import annotations

import asyncio
import smtplib
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import asyncssh
import pytest
import requests

from tests.support.running_lab import running_lab

T = TypeVar("T")
TIMEOUT = 10


class RawLab:
    def __init__(self, testbed: dict[str, Any], directory: Path) -> None:
        self.tb = testbed
        self.directory = directory
        self.ca = testbed["network"]["ca_bundle"]
        self.control_url = testbed["testbed"]["simulator"]["control_url"]
        self.deadline = testbed["deadlines"]["registration"]

    # ---- appliance ----------------------------------------------------------------------------
    def cli(self, device: str, *commands: str) -> str:
        """One SSH exec session running ``;``-joined batch commands."""
        dev = self.tb["devices"][device]
        conn = dev["connections"]["cli"]

        async def run() -> str:
            async with asyncssh.connect(conn["host"], conn["port"], username="admin", known_hosts=None,
                                        password=dev["credentials"]["default"]["password"],
                                        connect_timeout=TIMEOUT) as ssh:
                result = await ssh.run("; ".join(commands), timeout=TIMEOUT)
                return str(result.stdout)

        return asyncio.run(run())

    def status(self, device: str) -> str:
        return " ".join(self.cli(device, "cloudserviceconfig status").split())

    def send_mail(self, device: str, subject: str) -> None:
        conn = self.tb["devices"][device]["connections"]["smtp"]
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "mgmt01@example.com", "user@example.net", subject
        mail.set_content("test")
        with smtplib.SMTP(conn["host"], conn["port"], timeout=TIMEOUT) as smtp:
            smtp.send_message(mail)

    # ---- cloud --------------------------------------------------------------------------------
    def sse(self, method: str, region: str, path: str, **kw: Any) -> requests.Response:
        cfg = self.tb["cloud"]["sse"][region]
        return requests.request(method, f"{cfg['admin_url']}/api/v1{path}", verify=self.ca, timeout=TIMEOUT,
                                headers={"Authorization": f"Bearer {cfg['api_key']}"}, **kw)

    def token(self, region: str = "nam", **options: Any) -> str:
        reply = self.sse("POST", region, "/tokens", json={"devices": 1, **options})
        reply.raise_for_status()
        return str(reply.json()["tokens"][0])

    def ctr(self, method: str, region: str, path: str, **kw: Any) -> requests.Response:
        cfg = self.tb["cloud"]["ctr"][region]
        token = requests.post(f"{cfg['base_url']}/iroh/oauth2/token", data={"grant_type": "client_credentials"},
                              auth=(cfg["client_id"], cfg["client_secret"]), verify=self.ca, timeout=TIMEOUT)
        token.raise_for_status()
        return requests.request(method, f"{cfg['base_url']}{path}", verify=self.ca, timeout=TIMEOUT,
                                headers={"Authorization": f"Bearer {token.json()['access_token']}"}, **kw)

    def control(self, method: str, path: str, **kw: Any) -> requests.Response:
        reply = requests.request(method, f"{self.control_url}/_sim{path}", timeout=TIMEOUT, **kw)
        reply.raise_for_status()
        return reply

    # ---- procedures ---------------------------------------------------------------------------
    def enable(self, device: str, server: str | None = None) -> None:
        commands = ["threatresponseconfig enable"]
        if server:
            commands.append(f"cloudserviceconfig settrs {server}")
        self.cli(device, *commands, 'commit "ctrlab"')
        self.wait(lambda: "not registered" in self.status(device), "the Registration Token prompt", device)

    def register(self, device: str, token: str) -> str:
        self.cli(device, f"cloudserviceconfig register {token}")

        def settled() -> str | None:
            status = self.status(device)
            return None if "in progress" in status else status

        return self.wait(settled, "the end of the registration", device)

    def wait(self, probe: Callable[[], T], what: str, owner: str) -> T:
        """Poll to the deadline; lab time runs to the appliance's next pending event between looks
        ("after a few minutes" is one jump), a real pause only when nothing is pending."""
        deadline = time.monotonic() + self.deadline
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not happen within {self.deadline}s")
            jump = self.control("POST", "/clock", json={"advance_to_next": True, "owner": owner}).json()
            if jump["fired"] is None:
                time.sleep(self.tb["deadlines"]["poll_interval"])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawLab]:
    directory = tmp_path_factory.mktemp("lab")
    with running_lab(directory, "--appliances", "2") as testbed:
        yield RawLab(testbed, directory)


@pytest.fixture(autouse=True)
def fresh(lab: RawLab) -> None:
    lab.control("POST", "/reset")
    lab.sse("PUT", "nam", "/cloud-services/threat-response", json={"enabled": True})


def esa_module(lab: RawLab, device_id: str, region: str = "nam") -> dict[str, Any]:
    types = lab.ctr("GET", region, "/iroh/iroh-int/module-type").json()
    esa = next(t for t in types if t["title"] == "Email Security Appliance")
    reply = lab.ctr("POST", region, "/iroh/iroh-int/module-instance", json={
        "name": "esa1 Email Security Appliance", "module_type_id": esa["id"], "visibility": "org",
        "settings": {"registered_device": device_id, "request_timeframe": 30}})
    assert reply.status_code in (200, 201), reply.text
    return dict(reply.json())


def sightings(lab: RawLab, query: str, region: str = "nam") -> list[dict[str, Any]]:
    observables = lab.ctr("POST", region, "/iroh/iroh-inspect/inspect", json={"content": query}).json()
    if not observables:
        return []
    data = lab.ctr("POST", region, "/iroh/iroh-enrich/observe/observables", json=observables).json()["data"]
    return [doc for module in data for doc in module["data"].get("sightings", {}).get("docs", [])]


def test_the_documented_chain_from_enable_to_investigate(lab: RawLab) -> None:
    lab.enable("esa1")
    assert "successfully registered" in lab.register("esa1", lab.token())
    device = next(d for d in lab.sse("GET", "nam", "/devices").json()["devices"]
                  if d["name"] == "esa1.lab.ctrlab.test")
    assert device["status"] == "Registered"
    assert device["id"] in [d["id"] for d in lab.ctr("GET", "nam", "/iroh/iroh-sse/device").json()]
    esa_module(lab, device["id"])
    subject = f"test test {uuid.uuid4().hex[:6]}"
    lab.send_mail("esa1", subject)
    found = lab.wait(lambda: sightings(lab, f'email_subject:"{subject}"'), "the sighting", "esa1")
    assert found[0]["description"] == "Incoming message (Delivered)"
    assert (found[0]["confidence"], found[0]["severity"]) == ("High", "Low")


def test_ts1_threat_response_off_in_sse_hides_the_device_from_the_module(lab: RawLab) -> None:
    lab.enable("esa1")
    lab.register("esa1", lab.token())
    lab.sse("PUT", "nam", "/cloud-services/threat-response", json={"enabled": False})
    assert registered_device_choices(lab) == []  # the symptom
    lab.sse("PUT", "nam", "/cloud-services/threat-response", json={"enabled": True})  # the fix
    assert [c for c in registered_device_choices(lab) if "esa1.lab.ctrlab.test" in c["label"]]


def registered_device_choices(lab: RawLab) -> list[dict[str, Any]]:
    """The "Registered Device" choices of the Email Security Appliance module form (VER-3)."""
    esa = next(t for t in lab.ctr("GET", "nam", "/iroh/iroh-int/module-type").json()
               if t["title"] == "Email Security Appliance")
    field = next(f for f in esa["configuration_spec"] if f["key"] == "registered_device")
    return list(field.get("options", []))


def test_ts2_wrong_syntax_or_wrong_cloud_shows_no_data(lab: RawLab) -> None:
    lab.enable("esa1")
    lab.register("esa1", lab.token())
    device = lab.sse("GET", "nam", "/devices").json()["devices"][0]
    esa_module(lab, device["id"])
    lab.send_mail("esa1", "Invoice Due")
    lab.wait(lambda: sightings(lab, 'email_subject:"Invoice Due"'), "the sighting", "esa1")
    assert sightings(lab, "email_subject=Invoice Due") == []  # wrong syntax
    assert sightings(lab, 'email_subject:"Invoice Due"', region="eu") == []  # wrong cloud


def test_ts3_an_uncommitted_enable_never_asks_for_a_token(lab: RawLab) -> None:
    # One batch session (the CLI drops a session's uncommitted changes when it ends): enable without
    # commit, let "a few minutes" pass, then try to register.
    token = lab.token()
    out = lab.cli("esa1", "threatresponseconfig enable", "cloudserviceconfig status",
                  f"cloudserviceconfig register {token}")
    assert "Enable the Cloud Services on your appliance" in " ".join(out.split())  # the symptom
    assert "The appliance registration is in progress." not in out
    lab.enable("esa1")  # the fix: commit the change, and the token is asked for
    assert "successfully registered" in lab.register("esa1", token)


def test_ts4_invalid_expired_and_wrong_region_tokens_fail(lab: RawLab) -> None:
    lab.enable("esa1")
    failed = "The registration failed because of an invalid or expired token."
    assert failed in lab.register("esa1", "0" * 32)  # invalid
    assert failed in lab.register("esa1", lab.token(region="eu"))  # generated in the other region's SSE
    expired = lab.token()
    lab.control("POST", "/clock", json={"advance": 2 * 3600})
    assert failed in lab.register("esa1", expired)
    assert "successfully registered" in lab.register("esa1", lab.token())  # the fix: a fresh NAM token


def test_a_dropped_fqdn_at_the_firewall_breaks_registration(lab: RawLab) -> None:
    lab.enable("esa2")
    token = lab.token()
    lab.control("POST", "/netlab/firewall", json={"fqdn": "api-sse.cisco.com", "port": 443, "action": "drop"})
    assert "could not connect" in lab.register("esa2", token)
    lab.control("POST", "/netlab/firewall", json={"fqdn": "api-sse.cisco.com", "port": 443, "action": "allow"})
    assert "successfully registered" in lab.register("esa2", token)  # the token was never consumed


def test_the_simulators_log_no_secrets(lab: RawLab) -> None:
    lab.enable("esa1")
    token = lab.token()
    lab.register("esa1", token)
    secrets = [token]
    for dev in lab.tb["devices"].values():
        secrets.append(dev["credentials"]["default"]["password"])
    for cfg in lab.tb["cloud"]["sse"].values():
        secrets.append(cfg["api_key"])
    for cfg in lab.tb["cloud"]["ctr"].values():
        secrets.append(cfg["client_secret"])
    request_log = lab.control("GET", "/log").text
    process_log = (lab.directory / "lab.log").read_text()
    assert "/connector/v1/register" in request_log  # the log is not empty
    for secret in secrets:
        assert secret not in request_log and secret not in process_log


def test_disabling_a_registered_appliance_removes_it_from_sse(lab: RawLab) -> None:
    lab.enable("esa1")
    assert "successfully registered" in lab.register("esa1", lab.token())

    def listed() -> list[dict[str, Any]]:
        return [d for d in lab.sse("GET", "nam", "/devices").json()["devices"] if d["name"] == "esa1.lab.ctrlab.test"]

    assert listed()
    lab.cli("esa1", "threatresponseconfig disable", 'commit "ctrlab"')
    lab.wait(lambda: not listed(), "the device leaving SSE after Threat Response was disabled", "esa1")
