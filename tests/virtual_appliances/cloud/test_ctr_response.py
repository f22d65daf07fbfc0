"""Remediation from Threat Response (REM-1, REM-2): actions on a Cisco MID / Message-ID, triggered on the appliance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from threatresponse import ThreatResponse

from .specs import assert_valid
from .support import CloudLab, FakeAppliance, HttpClient, seed_message
from .support import integrate as integrated

Start = Callable[..., FakeAppliance]
FORWARD = "soc@example.com"


def actions(api: HttpClient, *observables: dict[str, str]) -> list[dict[str, Any]]:
    reply = api.post("/iroh/iroh-response/respond/observables", json=list(observables))
    assert reply.status_code == 200, reply.text
    assert_valid("iroh-response", "EnvelopedActions", reply.json())
    return list(reply.json()["data"])


def trigger(api: HttpClient, action: dict[str, Any]) -> dict[str, Any]:
    reply = api.post(action["url"])
    assert reply.status_code == 200, reply.text
    assert_valid("iroh-response", "EnvelopedActionResult", reply.json())
    return dict(reply.json())


def test_delete_forward_and_forward_and_delete_on_message_ids(lab: CloudLab, appliance: Start) -> None:
    api, _, module = integrated(lab, appliance, remediation_forward_address=FORWARD)
    for kind, value in (("cisco_mid", "8"), ("email_messageid", "0a1b2c3d@cisco.com")):
        found = actions(api, {"type": kind, "value": value})
        assert [a["title"] for a in found] == ["Delete", "Forward", "Forward and Delete"]
        assert {a["module_instance_id"] for a in found} == {module["id"]}
        assert all(f"observable_type={kind}" in a["url"] for a in found)
    assert actions(api, {"type": "ip", "value": "1.2.3.4"}, {"type": "email", "value": "a@b.example"}) == []


@pytest.mark.parametrize(("title", "action", "forward"), [
    ("Delete", "delete", None), ("Forward", "forward", FORWARD), ("Forward and Delete", "forward_and_delete", FORWARD),
])
def test_triggering_an_action_remediates_on_the_appliance(lab: CloudLab, appliance: Start, title: str, action: str,
                                                          forward: str | None) -> None:
    api, esa, _ = integrated(lab, appliance, remediation_forward_address=FORWARD)
    seed_message(lab, esa)
    chosen = next(a for a in actions(api, {"type": "cisco_mid", "value": "8"}) if a["title"] == title)
    assert trigger(api, chosen) == {"data": {"status": "success"}, "errors": []}
    expected: dict[str, Any] = {"mids": [8], "action": action}
    if forward:
        expected["forwardAddress"] = forward
    assert esa.remediations == [{"data": expected}]
    assert esa.authorizations[-1] == f"Bearer {esa.api_token}"


def test_a_message_id_is_resolved_to_its_mid_first(lab: CloudLab, appliance: Start) -> None:
    api, esa, _ = integrated(lab, appliance, remediation_forward_address=FORWARD)
    seed_message(lab, esa, mid=42, message_id="abc-123@cisco.com")
    delete = actions(api, {"type": "email_messageid", "value": "abc-123@cisco.com"})[0]
    assert trigger(api, delete)["data"]["status"] == "success"
    assert esa.searches[0]["messageIdHeader"] == "abc-123@cisco.com"
    assert esa.remediations == [{"data": {"mids": [42], "action": "delete"}}]
    unknown = actions(api, {"type": "email_messageid", "value": "nothing@cisco.com"})[0]
    result = trigger(api, unknown)
    assert result["data"]["status"] == "failure" and result["errors"][0]["code"] == "message-not-found"


def test_forwarding_needs_the_modules_forward_address(lab: CloudLab, appliance: Start) -> None:
    """REM-1: the module must be added with a remediation forward address."""
    api, esa, _ = integrated(lab, appliance)
    seed_message(lab, esa)
    forward = next(a for a in actions(api, {"type": "cisco_mid", "value": "8"}) if a["title"] == "Forward")
    result = trigger(api, forward)
    assert result["data"]["status"] == "failure" and result["errors"][0]["code"] == "missing-forward-address"
    assert esa.remediations == []


def test_an_appliance_refusing_remediation_is_a_failure(lab: CloudLab, appliance: Start) -> None:
    api, esa, _ = integrated(lab, appliance)
    seed_message(lab, esa)
    delete = actions(api, {"type": "cisco_mid", "value": "8"})[0]
    esa.fail_status = 403
    result = trigger(api, delete)
    assert result["data"]["status"] == "failure" and "403" in result["errors"][0]["message"]


def test_trigger_checks_its_parameters(lab: CloudLab, appliance: Start) -> None:
    api, _, module = integrated(lab, appliance)
    base = f"/iroh/iroh-response/respond/trigger/{module['id']}"
    assert api.post(f"{base}/email-remediation-delete").status_code == 400
    assert api.post(f"{base}/block-domain", params={"observable_type": "cisco_mid",
                                                    "observable_value": "8"}).status_code == 404
    assert api.post("/iroh/iroh-response/respond/trigger/nope/email-remediation-delete",
                    params={"observable_type": "cisco_mid", "observable_value": "8"}).status_code == 404
    readonly = lab.api("nam", ["enrich:read", "response/observables:read"])
    assert readonly.post(f"{base}/email-remediation-delete", params={
        "observable_type": "cisco_mid", "observable_value": "8"}).status_code == 403


def test_respond_on_a_sighting_offers_the_actions_of_its_message(lab: CloudLab, appliance: Start) -> None:
    api, esa, _ = integrated(lab, appliance)
    seed_message(lab, esa)
    sighting = api.post("/iroh/iroh-enrich/observe/observables", json=[
        {"type": "email_subject", "value": "test test"}]).json()["data"][0]["data"]["sightings"]["docs"][0]
    reply = api.post("/iroh/iroh-response/respond/sighting", json=sighting)
    assert_valid("iroh-response", "EnvelopedActions", reply.json())
    assert {a["url"].split("?")[1] for a in reply.json()["data"]} == {
        "observable_type=cisco_mid&observable_value=8",
        "observable_type=email_messageid&observable_value=0a1b2c3d%40cisco.com"}


@pytest.mark.usefixtures("tr_env")
def test_the_official_client_remediates(lab: CloudLab, appliance: Start) -> None:
    _, esa, module = integrated(lab, appliance, remediation_forward_address=FORWARD)
    seed_message(lab, esa)
    client_id, secret = lab.new_client("nam", ["response"])
    client = ThreatResponse(client_id, secret, environment=lab.environment("nam"), timeout=10)
    offered = client.response.respond.observables([{"type": "cisco_mid", "value": "8"}])["data"]
    chosen = next(a for a in offered if a["title"] == "Forward and Delete")
    result = client.response.respond.trigger(module["id"], chosen["id"], observable_type="cisco_mid",
                                             observable_value="8")
    assert result == {"data": {"status": "success"}, "errors": []}
    assert esa.remediations[-1]["data"]["action"] == "forward_and_delete"
