"""The contract with the appliance simulator's REST API: Threat Response reads its message tracking and
remediates through it exactly as with a real AsyncOS API (docs/simulators.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from virtual_appliances.asyncos.model import Appliance, ApplianceSpec
from virtual_appliances.asyncos.rest_api import api_app
from virtual_appliances.asyncos.tracking import Attachment

from .support import HOST, SHA, CloudLab, serve


@pytest.fixture
def esa(lab: CloudLab) -> Iterator[tuple[Appliance, str]]:
    spec = ApplianceSpec(name="esa03", hostname="esa03.mex-amp.inlab")
    appliance = Appliance(spec, lab.clock, password="lab-password-123")
    port, stop = lab.loop.run(serve(api_app(appliance, lab.redactor), lab.ca.server_context(HOST, "localhost")))
    yield appliance, f"https://{HOST}:{port}"

    async def stopped() -> None:
        await stop()

    lab.loop.run(stopped())


def test_investigate_and_remediate_through_the_appliance_rest_api(lab: CloudLab, esa: tuple[Appliance, str]) -> None:
    appliance, url = esa
    appliance.committed.remediation_profile = True  # REM-1, as committed in System Administration
    message = appliance.tracking.record(
        sender="mgmt01@cisco.com", recipients=["testingBren@cisco.com"], subject="test test",
        message_id="<0a1b2c3d@cisco.com>", sender_ip="173.37.147.230",
        attachments=[Attachment("invoice.pdf", SHA)])
    token = lab.generate_token("nam")
    reply = lab.device_api("nam").post("/connector/v1/register", json={"token": token, "device": {
        "name": appliance.spec.hostname, "type": "ESA", "version": "13.0.0", "ip": HOST,
        "connector_version": "1.3.34", "description": "ESA", "api_url": url, "api_token": appliance.api_token}})
    assert reply.status_code == 201
    lab.set_threat_response("nam", True)
    api = lab.api("nam")
    module = lab.add_module(api, reply.json()["device_id"], remediation_forward_address="soc@example.com")

    for query in ('email_subject:"test test"', 'cisco_mid:"1"', 'email_messageid:"0a1b2c3d@cisco.com"',
                  'file_name:"invoice.pdf"', f'sha256:"{SHA}"', 'ip:"173.37.147.230"', 'domain:"cisco.com"',
                  'email:"mgmt01@cisco.com"'):
        observables = api.post("/iroh/iroh-inspect/inspect", json={"content": query}).json()
        result = api.post("/iroh/iroh-enrich/observe/observables", json=observables).json()
        assert result["errors"] == [], (query, result["errors"])
        docs = result["data"][0]["data"]["sightings"]["docs"]
        assert [d["title"] for d in docs] == ["Incoming message (Delivered)"], query

    actions = api.post("/iroh/iroh-response/respond/observables", json=[
        {"type": "cisco_mid", "value": str(message.mid)}]).json()["data"]
    delete = next(a for a in actions if a["title"] == "Forward and Delete")
    assert api.post(delete["url"]).json() == {"data": {"status": "success"}, "errors": []}
    assert [r["action"] for r in message.remediations] == ["forward_and_delete"]
    assert message.remediations[0]["forward_address"] == "soc@example.com"
    assert module["id"] in delete["url"]
