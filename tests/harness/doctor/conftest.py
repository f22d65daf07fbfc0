"""A real bundled lab (an ESA, an SMA and a content security gateway), brought into states through the
harness's protocol drivers and the simulators' control plane, for ``ctrlab doctor``'s tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.appliance import AsyncOSCli, AsyncOSGui, AsyncOSRest, SmtpSender
from harness.cloud import SseAdmin, ThreatResponseClient
from harness.polling import poll_until
from harness.testbed import Testbed, load_testbed
from harness.trust import host_trust
from tests.support.running_lab import running_lab

TIMEOUT = 10.0
DEVICE = "esa1"
DEVICES = ("esa1", "sma1", "gateway1", "gateway2")  # each kind; gateway1/2: the two ENA-8 variants
# VER-3: an ESA (and an email gateway, an ESA by another name: seed 000) uses the Email Security Appliance
# module; an SMA its "SMA Email" module (seeds 000/001/003).
MODULE_TITLE = {"esa": "Email Security Appliance", "gateway": "Email Security Appliance", "sma": "SMA Email"}


class Appliance:
    """The drivers for one appliance of the lab."""

    def __init__(self, tb: Testbed, name: str) -> None:
        verify = tb.network.ca_bundle or True
        dev = tb.devices[name]
        conn = dev.connections
        assert conn.cli and conn.gui and conn.api and conn.smtp
        self.name = name
        self.kind = dev.kind
        self.hostname = dev.hostname
        self.cli = AsyncOSCli(conn.cli.host, conn.cli.port, dev.username, dev.password, name=name, timeout=TIMEOUT,
                              host_trust=host_trust(tb, name))
        self.gui = AsyncOSGui(f"https://{conn.gui.host}:{conn.gui.port}/", dev.username, dev.password, name=name,
                              verify=verify, timeout=(5.0, TIMEOUT))
        self.rest = AsyncOSRest(f"https://{conn.api.host}:{conn.api.port}", dev.username, dev.password,
                                kind=dev.kind, name=name, verify=verify, timeout=(5.0, TIMEOUT))
        self.smtp = SmtpSender(conn.smtp.host, conn.smtp.port, name=name, timeout=TIMEOUT)

    def status(self) -> str:
        return " ".join(self.cli.run("cloudserviceconfig status").split())

    def close(self) -> None:
        self.cli.close()
        self.gui.close()
        self.rest.close()


class DoctorLab:
    """The lab as the tests drive it: drivers for each appliance, the clouds, and the control plane."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.path = path
        self.tb: Testbed = load_testbed(path)
        self.control_url = data["testbed"]["simulator"]["control_url"]
        self.deadline = self.tb.deadlines.registration
        self.interval = self.tb.deadlines.poll_interval
        verify = self.tb.network.ca_bundle or True
        self.appliances = {name: Appliance(self.tb, name) for name in DEVICES}
        self.sse: dict[str, SseAdmin] = {
            r: SseAdmin(c.admin_url or "", c.api_key or "", region=r, verify=verify, timeout=(5.0, TIMEOUT))
            for r, c in self.tb.cloud.sse.items()}
        ctr = self.tb.ctr_for("nam")
        assert ctr is not None
        self.ctr = ThreatResponseClient.from_config("nam", ctr.model_dump(), verify=verify, timeout=(5.0, TIMEOUT))

    def __getitem__(self, name: str) -> Appliance:
        return self.appliances[name]

    # ---- control plane ------------------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        reply = requests.request(method, f"{self.control_url}/_sim{path}", json=body, timeout=TIMEOUT)
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def reset(self) -> None:
        self.control("POST", "/reset")
        for appliance in self.appliances.values():  # each was factory-reset: log in afresh
            appliance.cli.close()
            appliance.gui.logged_in = False

    def state(self) -> dict[str, Any]:
        """Everything the doctor must leave as it found it, on every appliance."""
        sse = self.control("GET", "/sse")  # tenants, token batches (no values), devices
        for region in sse["regions"].values():
            for batch in region["token_batches"]:
                # "expired" follows the lab clock; "expires" and
                # "used" stay: the doctor must neither generate, use nor expire a token.
                batch.pop("expired", None)
        return {
            "appliances": {name: self.control("GET", f"/appliances/{name}") for name in DEVICES},
            "sse": sse,
            "devices": {r: s.devices() for r, s in self.sse.items()},
            "modules": self.ctr.module_instances(),
        }

    # ---- the documented procedures, through the drivers ---------------------------------------------
    def enable(self, name: str = DEVICE, server: str | None = None) -> None:
        """threatresponseconfig enable (+ settrs) and commit (ENA-6), then wait for the token prompt."""
        appliance = self[name]
        appliance.cli.run("threatresponseconfig enable")
        if server:
            appliance.cli.run(f"cloudserviceconfig settrs {server}")
        appliance.cli.commit("ctrlab doctor test")
        self.wait(lambda: "not registered" in appliance.status() or "Registration Token" in appliance.status(),
                  f"the registration token prompt on {name}")

    def register(self, name: str = DEVICE, region: str = "nam") -> None:
        appliance = self[name]
        token = self.sse[region].token()
        appliance.cli.run(f"cloudserviceconfig register {token}")
        self.wait(lambda: "successfully registered" in appliance.status(), f"the registration of {name}")

    def add_module(self, name: str = DEVICE) -> None:
        appliance = self[name]
        device = self.sse["nam"].find_device(appliance.hostname)
        assert device is not None
        title = MODULE_TITLE[appliance.kind]
        kind = next(t for t in self.ctr.module_types() if t["title"] == title)
        self.ctr.create_module_instance(f"{name} {title}", kind["id"],
                                        {"registered_device": device["id"], "request_timeframe": 30})

    def send_mail(self, name: str = DEVICE) -> str:
        appliance = self[name]
        subject = f"test test {uuid.uuid4().hex[:6]}"
        appliance.smtp.send("mgmt01@example.com", ["user@example.net"], subject, "doctor test")
        self.wait(lambda: appliance.rest.tracking_messages(subject=subject), f"the mail in {name}'s message tracking")
        return subject

    def healthy(self) -> None:
        self.sse["nam"].set_cloud_service(True)
        for name in DEVICES:
            self.enable(name)
            self.register(name)
            self.add_module(name)
            self.send_mail(name)

    def wait(self, probe: Any, what: str) -> Any:
        return poll_until(probe, self.deadline, describe=what, interval=self.interval)

    def close(self) -> None:
        for appliance in self.appliances.values():
            appliance.close()
        self.ctr.close()
        for sse in self.sse.values():
            sse.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DoctorLab]:
    directory = tmp_path_factory.mktemp("doctor-lab")
    # The tests wait as on real gear: the lab's appliance events fire by themselves (lab time, 1x otherwise).
    with running_lab(directory, "--appliances", "1", "--sma", "1", "--gateway", "2", "--autojump", "0.1") as data:
        lab = DoctorLab(data, directory / "testbed.yaml")
        try:
            yield lab
        finally:
            lab.close()
