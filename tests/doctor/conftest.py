"""A real bundled lab (one ESA), brought into states through the harness's protocol drivers and the
simulators' control plane, for ``ctrlab doctor``'s tests."""

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
from tests.support.lab import running_lab

TIMEOUT = 10.0
DEVICE = "esa1"


class DoctorLab:
    """The lab as the tests drive it: drivers for esa1, the clouds, and the control plane."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.path = path
        self.tb: Testbed = load_testbed(path)
        self.control_url = data["testbed"]["simulator"]["control_url"]
        self.deadline = self.tb.deadlines.registration
        self.interval = self.tb.deadlines.poll_interval
        verify = self.tb.network.ca_bundle or True
        dev = self.tb.devices[DEVICE]
        conn = dev.connections
        assert conn.cli and conn.gui and conn.api and conn.smtp
        self.hostname = dev.hostname
        self.cli = AsyncOSCli(conn.cli.host, conn.cli.port, dev.username, dev.password, name=DEVICE, timeout=TIMEOUT)
        self.gui = AsyncOSGui(f"https://{conn.gui.host}:{conn.gui.port}/", dev.username, dev.password, name=DEVICE,
                              verify=verify, timeout=(5.0, TIMEOUT))
        self.rest = AsyncOSRest(f"https://{conn.api.host}:{conn.api.port}", dev.username, dev.password,
                                name=DEVICE, verify=verify, timeout=(5.0, TIMEOUT))
        self.smtp = SmtpSender(conn.smtp.host, conn.smtp.port, name=DEVICE, timeout=TIMEOUT)
        self.sse: dict[str, SseAdmin] = {
            r: SseAdmin(c.admin_url or "", c.api_key or "", region=r, verify=verify, timeout=(5.0, TIMEOUT))
            for r, c in self.tb.cloud.sse.items()}
        ctr = self.tb.ctr_for("nam")
        assert ctr is not None
        self.ctr = ThreatResponseClient.from_config("nam", ctr.model_dump(), verify=verify, timeout=(5.0, TIMEOUT))

    # ---- control plane ------------------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        reply = requests.request(method, f"{self.control_url}/_sim{path}", json=body, timeout=TIMEOUT)
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def reset(self) -> None:
        self.control("POST", "/reset")
        self.cli.close()  # the appliance was factory-reset: log in afresh
        self.gui.logged_in = False

    def state(self) -> dict[str, Any]:
        """Everything the doctor must leave as it found it."""
        return {
            "appliance": self.control("GET", f"/appliances/{DEVICE}"),
            "sse": self.control("GET", "/sse"),  # tenants, token batches (no values), devices
            "devices": {r: s.devices() for r, s in self.sse.items()},
            "modules": self.ctr.module_instances(),
        }

    # ---- the documented procedures, through the drivers ---------------------------------------------
    def status(self) -> str:
        return " ".join(self.cli.run("cloudserviceconfig status").split())

    def enable(self, server: str | None = None) -> None:
        """threatresponseconfig enable (+ settrs) and commit (ENA-6), then wait for the token prompt."""
        self.cli.run("threatresponseconfig enable")
        if server:
            self.cli.run(f"cloudserviceconfig settrs {server}")
        self.cli.commit("ctrlab doctor test")
        self.wait(lambda: "not registered" in self.status() or "Registration Token" in self.status(),
                  "the registration token prompt")

    def register(self, region: str = "nam") -> None:
        token = self.sse[region].token()
        self.cli.run(f"cloudserviceconfig register {token}")
        self.wait(lambda: "successfully registered" in self.status(), "the registration")

    def add_module(self) -> None:
        device = self.sse["nam"].find_device(self.hostname)
        assert device is not None
        esa = next(t for t in self.ctr.module_types() if t["title"] == "Email Security Appliance")
        self.ctr.create_module_instance(f"{DEVICE} Email Security Appliance", esa["id"],
                                        {"registered_device": device["id"], "request_timeframe": 30})

    def send_mail(self) -> str:
        subject = f"test test {uuid.uuid4().hex[:6]}"
        self.smtp.send("mgmt01@example.com", ["user@example.net"], subject, "doctor test")
        self.wait(lambda: self.rest.tracking_messages(subject=subject), "the mail in message tracking")
        return subject

    def healthy(self) -> None:
        self.sse["nam"].set_cloud_service(True)
        self.enable()
        self.register()
        self.add_module()
        self.send_mail()

    def wait(self, probe: Any, what: str) -> Any:
        return poll_until(probe, self.deadline, describe=what, interval=self.interval)

    def close(self) -> None:
        self.cli.close()
        self.gui.close()
        self.rest.close()
        self.ctr.close()
        for sse in self.sse.values():
            sse.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DoctorLab]:
    directory = tmp_path_factory.mktemp("doctor-lab")
    with running_lab(directory, "--appliances", "1") as data:
        lab = DoctorLab(data, directory / "testbed.yaml")
        try:
            yield lab
        finally:
            lab.close()
