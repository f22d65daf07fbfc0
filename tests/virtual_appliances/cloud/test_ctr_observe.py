"""Enrichment from the registered appliance's message tracking (VER-5, TS-2) and module health."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from threatresponse import ThreatResponse

from .specs import assert_valid
from .support import SHA, CloudLab, FakeAppliance, HttpClient, seed_message
from .support import integrate as integrated

Start = Callable[..., FakeAppliance]


def observe(api: HttpClient, *observables: dict[str, str]) -> dict[str, Any]:
    reply = api.post("/iroh/iroh-enrich/observe/observables", json=list(observables))
    assert reply.status_code == 200, reply.text
    assert_valid("iroh-enrich", "ObserveEnvelopedObserveBundle", reply.json())
    return dict(reply.json())


def test_the_seed_investigation_returns_the_sighting(lab: CloudLab, appliance: Start) -> None:
    """VER-5: email_subject:"test test" -> one sighting "Incoming message (Delivered)", High, Low."""
    api, esa, module = integrated(lab, appliance)
    message = seed_message(lab, esa)
    result = observe(api, {"type": "email_subject", "value": "test test"})
    assert result["errors"] == []
    (entry,) = result["data"]
    assert (entry["module"], entry["module_instance_id"]) == (module["name"], module["id"])
    sightings = entry["data"]["sightings"]
    assert sightings["count"] == 1
    (sighting,) = sightings["docs"]
    assert sighting["title"] == sighting["description"] == "Incoming message (Delivered)"
    assert (sighting["confidence"], sighting["severity"], sighting["count"]) == ("High", "Low", 1)
    assert sighting["observables"] == [{"type": "email_subject", "value": "test test"}]
    when = datetime.strptime(sighting["observed_time"]["start_time"], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC)
    assert when == message.timestamp
    recipient = {"type": "email", "value": "testingBren@cisco.com"}
    assert sighting["targets"] == [{"type": "email", "observables": [recipient],
                                    "observed_time": sighting["observed_time"]}]
    pairs = {(r["source"]["type"], r["relation"], r["related"]["type"], r["related"]["value"])
             for r in sighting["relations"]}
    assert {("cisco_mid", "Sent_By", "email", "mgmt01@cisco.com"),
            ("cisco_mid", "Sent_To", "email", "testingBren@cisco.com"),
            ("cisco_mid", "Received_From", "ip", "173.37.147.230"),
            ("email", "Related_To", "domain", "cisco.com"),
            ("cisco_mid", "Related_To", "email_subject", "test test"),
            ("cisco_mid", "Related_To", "email_messageid", "0a1b2c3d@cisco.com"),
            ("cisco_mid", "Contains", "file_name", "invoice.pdf"),
            ("cisco_mid", "Contains", "sha256", SHA)} <= pairs
    assert all(r["source"]["value"] == "8" for r in sighting["relations"] if r["source"]["type"] == "cisco_mid")


def test_the_appliance_is_queried_as_the_asyncos_api_expects(lab: CloudLab, appliance: Start) -> None:
    api, esa, _ = integrated(lab, appliance)
    observe(api, {"type": "email_subject", "value": "test test"})
    (query,) = esa.searches
    assert esa.authorizations == [f"Bearer {esa.api_token}"]
    assert (query["subjectfilterOperator"], query["subjectfilterValue"]) == ("is", "test test")
    start = datetime.strptime(query["startDate"], "%Y-%m-%dT%H:%M:%S.000Z")
    end = datetime.strptime(query["endDate"], "%Y-%m-%dT%H:%M:%S.000Z")
    assert start.second == end.second == 0 and end - start == timedelta(days=30)
    now = lab.clock.now().replace(tzinfo=None)
    assert timedelta(0) < end - now <= timedelta(minutes=1)


@pytest.mark.parametrize(("kind", "value", "param", "expected"), [
    ("ip", "173.37.147.230", "senderIp", "173.37.147.230"),
    ("domain", "cisco.com", "domainNameValue", "cisco.com"),
    ("email", "mgmt01@cisco.com", "envelopeSenderfilterValue", "mgmt01@cisco.com"),
    ("email_subject", "test test", "subjectfilterValue", "test test"),
    ("cisco_mid", "8", "ciscoMid", "8"),
    ("email_messageid", "0a1b2c3d@cisco.com", "messageIdHeader", "0a1b2c3d@cisco.com"),
    ("sha256", SHA, "fileSha256", SHA),
    ("file_name", "invoice.pdf", "attachmentNameValue", "invoice.pdf"),
])
def test_every_email_observable_finds_the_message(lab: CloudLab, appliance: Start, kind: str, value: str,
                                                  param: str, expected: str) -> None:
    api, esa, _ = integrated(lab, appliance)
    seed_message(lab, esa)
    seed_message(lab, esa, mid=9, sender="other@example.com", subject="other", message_id="x@example.com",
                 sender_ip="10.0.0.9", attachments=[])
    result = observe(api, {"type": kind, "value": value})
    (sighting,) = result["data"][0]["data"]["sightings"]["docs"]
    assert sighting["observables"] == [{"type": kind, "value": value}]
    assert esa.searches[0][param] == expected


def test_observables_the_module_does_not_enrich_are_not_sent(lab: CloudLab, appliance: Start) -> None:
    api, esa, _ = integrated(lab, appliance)
    result = observe(api, {"type": "url", "value": "http://evil.example/"}, {"type": "cisco_mid", "value": "abc"})
    assert result == {"data": [], "errors": []} and esa.searches == []


def test_messages_outside_the_request_timeframe_are_not_found(lab: CloudLab, appliance: Start) -> None:
    api, esa, _ = integrated(lab, appliance, request_timeframe=1)
    seed_message(lab, esa, timestamp=lab.clock.now() - timedelta(days=2))
    result = observe(api, {"type": "cisco_mid", "value": "8"})
    assert result["data"][0]["data"] == {}
    query = esa.searches[0]
    span = datetime.fromisoformat(query["endDate"][:-1]) - datetime.fromisoformat(query["startDate"][:-1])
    assert span == timedelta(days=1)


def test_an_unreachable_appliance_is_an_error_entry(lab: CloudLab, appliance: Start) -> None:
    api, esa, module = integrated(lab, appliance)
    esa.fail_status = 500
    result = observe(api, {"type": "email_subject", "value": "test test"})
    assert result["data"] == []
    (error,) = result["errors"]
    assert (error["module_instance_id"], error["type"]) == (module["id"], "fatal")
    lab.stop_appliances()
    result = observe(api, {"type": "email_subject", "value": "test test"})
    assert result["errors"][0]["code"] == "device-unreachable"
    health = api.post("/iroh/iroh-enrich/health")
    assert_valid("iroh-enrich", "EnvelopedHealth", health.json())
    assert health.json()["data"][0]["data"] == {"status": "error"}


def test_health_is_ok_while_the_appliance_answers(lab: CloudLab, appliance: Start) -> None:
    api, _, module = integrated(lab, appliance)
    health = api.post("/iroh/iroh-enrich/health")
    assert health.json()["data"] == [{"module": module["name"], "module_instance_id": module["id"],
                                      "module_type_id": module["module_type_id"], "data": {"status": "ok"}}]
    one = api.post(f"/iroh/iroh-enrich/health/{module['id']}")
    assert_valid("iroh-enrich", "EnvelopedSingleHealth", one.json())
    assert one.json()["data"]["data"]["status"] == "ok"


def test_disabling_threat_response_in_sse_cuts_the_module_off(lab: CloudLab, appliance: Start) -> None:
    api, esa, _ = integrated(lab, appliance)
    seed_message(lab, esa)
    lab.set_threat_response("nam", False)
    result = observe(api, {"type": "cisco_mid", "value": "8"})
    assert result["data"] == [] and result["errors"][0]["code"] == "sse-disabled"


def test_the_wrong_cloud_has_no_data(lab: CloudLab, appliance: Start) -> None:
    """TS-2: the module is configured in NAM; EU Threat Response has no module, hence no data."""
    api, esa, _ = integrated(lab, appliance, region="nam")
    seed_message(lab, esa)
    eu = lab.api("eu")
    assert observe(eu, {"type": "email_subject", "value": "test test"}) == {"data": [], "errors": []}
    assert observe(api, {"type": "email_subject", "value": "test test"})["data"]
    assert len(esa.searches) == 1


def test_deliberate_and_refer_have_nothing_from_the_email_module(lab: CloudLab, appliance: Start) -> None:
    api, _, _ = integrated(lab, appliance)
    body = [{"type": "ip", "value": "1.2.3.4"}]
    deliberate = api.post("/iroh/iroh-enrich/deliberate/observables", json=body).json()
    assert_valid("iroh-enrich", "DeliberateEnvelopedObserveBundle", deliberate)
    refer = api.post("/iroh/iroh-enrich/refer/observables", json=body).json()
    assert_valid("iroh-enrich", "EnvelopedRefs", refer)
    assert deliberate == refer == {"data": [], "errors": []}
    bad = api.post("/iroh/iroh-enrich/observe/observables", json=[{"type": "colour", "value": "red"}])
    assert bad.status_code == 400 and "type" in bad.json()["error_description"]


@pytest.mark.usefixtures("tr_env")
def test_the_official_client_investigates(lab: CloudLab, appliance: Start) -> None:
    _, esa, _ = integrated(lab, appliance)
    seed_message(lab, esa)
    client_id, secret = lab.new_client("nam", ["inspect:read", "enrich:read"])
    client = ThreatResponse(client_id, secret, environment=lab.environment("nam"), timeout=10)
    observables = client.inspect.inspect({"content": 'email_subject:"test test"'})
    result = client.enrich.observe.observables(observables)
    docs = result["data"][0]["data"]["sightings"]["docs"]
    assert [d["title"] for d in docs] == ["Incoming message (Delivered)"]
    token = lab.access_token("nam", client_id, secret)
    with_token = ThreatResponse(token=token, environment=lab.environment("nam"), timeout=10)  # calls /settings
    assert with_token.enrich.observe.observables(observables)["data"][0]["data"]["sightings"]["count"] == 1
