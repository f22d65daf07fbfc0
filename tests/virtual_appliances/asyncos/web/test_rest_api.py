"""The AsyncOS REST API v2.0 (reference/asyncos.md section 2): auth, message tracking, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import timedelta
from typing import Any

import pytest

from virtual_appliances.asyncos import messages as msg

from .support import Factory, HttpClient, SimAppliance, api_date, basic_auth, make_mail

ESA = "/esa/api/v2.0"
UNAUTHORIZED = {"error": {"message": "Invalid username or passphrase.", "code": "401",
                          "explanation": "401 = No permission -- see authorization schemes."}}
MISSING_DATES = {"error": {"message": "Missing attribute - startDate or endDate.", "code": "404",
                           "explanation": "404 = Nothing matches the given URI."}}


def login_body(username: str, password: str) -> dict[str, Any]:
    return {"data": {"userName": base64.b64encode(username.encode()).decode(),
                     "passphrase": base64.b64encode(password.encode()).decode()}}


def dates(sim: SimAppliance, back: timedelta = timedelta(days=1)) -> dict[str, str]:
    now = sim.clock.now()
    return {"startDate": api_date(now - back), "endDate": api_date(now)}


def tracking(sim: SimAppliance, client: HttpClient | None = None, headers: dict[str, str] | None = None,
             **params: str) -> Any:
    client = client or sim.api()
    response = client.get(f"{ESA}/message-tracking/messages", params={**dates(sim), **params},
                          headers=headers or basic_auth("admin", sim.password))
    assert response.status_code == 200, response.text
    return response.json()


def test_jwt_login_flow(esa: SimAppliance) -> None:
    api = esa.api()
    response = api.post(f"{ESA}/login", json=login_body("admin", esa.password))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["userName"] == "admin" and data["role"] == "Administrator" and data["email"] == []
    token = data["jwtToken"]
    header, payload, _ = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(base64.urlsafe_b64decode(payload + "=="))["userName"] == "admin"
    privileges = api.get(f"{ESA}/login/privileges", headers={"jwtToken": token})
    assert privileges.status_code == 200
    assert {"e_message_tracking_messages", "e_message_tracking_detail"} <= set(privileges.json()["data"])
    # The token and the password are secrets of the lab: the redactor masks them.
    assert esa.redactor.text(f"jwt {token} pw {esa.password}") == "jwt *** pw ***"


def test_bad_credentials_get_the_documented_401(esa: SimAppliance) -> None:
    api = esa.api()
    response = api.post(f"{ESA}/login", json=login_body("admin", "wrong"))
    assert response.status_code == 401 and response.json() == UNAUTHORIZED
    response = api.get(f"{ESA}/health", headers=basic_auth("admin", "wrong"))
    assert response.status_code == 401 and response.json() == UNAUTHORIZED
    response = api.get(f"{ESA}/health")
    assert response.status_code == 401 and response.json() == UNAUTHORIZED
    response = api.post(f"{ESA}/login", data="not json")
    assert response.status_code == 401


def test_tampered_jwt_is_invalid(esa: SimAppliance) -> None:
    api = esa.api()
    token = api.post(f"{ESA}/login", json=login_body("admin", esa.password)).json()["data"]["jwtToken"]
    header, _, signature = token.split(".")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    forged = base64.urlsafe_b64encode(json.dumps({"userName": "root", "exp": 9999999999}).encode()).decode()
    for bad in (f"{header}.{forged.rstrip('=')}.{signature}", "garbage", flipped):
        response = api.get(f"{ESA}/health", headers={"jwtToken": bad})
        assert response.status_code == 401
        assert response.json()["error"]["message"] == msg.API_TOKEN_INVALID


def test_basic_auth_on_any_call(esa: SimAppliance) -> None:
    response = esa.api().get(f"{ESA}/health", headers=basic_auth("admin", esa.password))
    assert response.status_code == 200
    assert "percentage_cpu_load" in response.json()["data"]


def test_missing_dates_get_the_documented_404(esa: SimAppliance) -> None:
    api = esa.api()
    for params in ({}, {"startDate": dates(esa)["startDate"]}, {"endDate": dates(esa)["endDate"]}):
        response = api.get(f"{ESA}/message-tracking/messages", params=params,
                           headers=basic_auth("admin", esa.password))
        assert response.status_code == 404
        assert response.json() == MISSING_DATES


@pytest.mark.parametrize(("value", "fragment"), [
    ("2023-07-31T15:20:45.000Z", "seconds must be 00"),
    ("2023-07-31T15:20:00.500Z", "seconds must be 00"),
    ("31/07/2023", "YYYY-MM-DDTHH:MM:00.000Z"),
    ("2023-02-30T00:00:00.000Z", "not a calendar date"),
])
def test_bad_dates_are_400(esa: SimAppliance, value: str, fragment: str) -> None:
    response = esa.api().get(f"{ESA}/message-tracking/messages",
                             params={"startDate": value, "endDate": dates(esa)["endDate"]},
                             headers=basic_auth("admin", esa.password))
    assert response.status_code == 400
    error = response.json()["error"]
    assert fragment in error["message"] and error["code"] == "400"
    assert error["explanation"].startswith("400 = ")


def test_messages_shape(esa: SimAppliance) -> None:
    pdf = b"%PDF-1.4 invoice"
    esa.send_mail(make_mail("test test", attachments=[("invoice.pdf", pdf)], message_id="<123-abc-456@cisco.com>"),
                  "mgmt01@cisco.com", ["testingBren@cisco.com"])
    body = tracking(esa, ciscoHost="All_Hosts", searchOption="messages", offset="0", limit="20")
    assert body["meta"]["totalCount"] == 1
    attributes = body["data"][0]["attributes"]
    assert attributes["mid"] == [1] and attributes["icid"] == 1 and attributes["allIcid"] == [1]
    assert attributes["messageStatus"] == {"1": "Delivered"}
    assert attributes["recipient"] == ["testingBren@cisco.com"]
    assert attributes["sender"] == "mgmt01@cisco.com" and attributes["senderDomain"] == "cisco.com"
    assert attributes["senderIp"] == "127.0.0.1"
    assert attributes["subject"] == "test test"
    assert attributes["messageID"] == {"1": "<123-abc-456@cisco.com>"}
    assert attributes["direction"] == "incoming"
    assert attributes["hostName"] == esa.appliance.spec.hostname
    assert attributes["serialNumber"] == esa.appliance.spec.serial
    assert re.fullmatch(r"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \(GMT \+00:00\)", attributes["timestamp"])
    assert attributes["attachments"] == [{"name": "invoice.pdf", "sha256": hashlib.sha256(pdf).hexdigest()}]


def test_message_filters(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("Invoice Due", attachments=[("invoice.pdf", b"A")], message_id="<a1@cisco.com>"),
                  "noreply@cisco.com", ["alice@example.com"])
    esa.send_mail(make_mail("Lunch", attachments=[("menu.txt", b"B")]), "bob@example.org", ["carol@example.com"])

    def mids(**params: str) -> list[int]:
        return [d["attributes"]["mid"][0] for d in tracking(esa, **params)["data"]]

    assert mids() == [1, 2]
    assert mids(subjectfilterOperator="begins_with", subjectfilterValue="invoice") == [1]
    assert mids(subjectfilterOperator="is", subjectfilterValue="Invoice") == []
    assert mids(subjectfilterOperator="contains", subjectfilterValue="unc") == [2]
    assert mids(envelopeSenderfilterOperator="is", envelopeSenderfilterValue="bob@example.org") == [2]
    assert mids(envelopeRecipientfilterOperator="begins_with", envelopeRecipientfilterValue="alice") == [1]
    assert mids(attachmentNameOperator="contains", attachmentNameValue=".pdf") == [1]
    assert mids(fileSha256=hashlib.sha256(b"B").hexdigest()) == [2]
    assert mids(senderIp="127.0.0.1") == [1, 2]
    assert mids(senderIp="10.0.0.1") == []
    assert mids(messageIdHeader="<a1@cisco.com>") == [1]
    assert mids(ciscoMid="2") == [2]
    assert mids(domainNameOperator="is", domainNameValue="cisco.com") == [1]
    assert mids(ciscoHost="other-host.example") == []


def test_paging_and_total_count(esa: SimAppliance) -> None:
    for i in range(5):
        esa.send_mail(make_mail(f"bulk {i}"), "a@example.com", ["b@example.com"])
    body = tracking(esa, offset="2", limit="2")
    assert body["meta"]["totalCount"] == 5
    assert [d["attributes"]["mid"][0] for d in body["data"]] == [3, 4]


def test_bad_parameters_are_400(esa: SimAppliance) -> None:
    api = esa.api()
    for params in ({"subjectfilterOperator": "like", "subjectfilterValue": "x"}, {"limit": "many"},
                   {"offset": "-1"}, {"ciscoMid": "abc"}):
        response = api.get(f"{ESA}/message-tracking/messages", params={**dates(esa), **params},
                           headers=basic_auth("admin", esa.password))
        assert response.status_code == 400, params


def test_time_window_is_applied(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("old"), "a@example.com", ["b@example.com"])
    esa.advance(3 * 86400)
    assert tracking(esa)["meta"]["totalCount"] == 0
    assert tracking(esa, **dates(esa, back=timedelta(days=5)))["meta"]["totalCount"] == 1


def test_details(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("detail", message_id="<d@cisco.com>"), "a@example.com", ["b@example.com"])
    api = esa.api()
    auth = basic_auth("admin", esa.password)
    response = api.get(f"{ESA}/message-tracking/details", params={**dates(esa), "mid": "1"}, headers=auth)
    assert response.status_code == 200
    details = response.json()["data"]["messages"]
    assert details["mid"] == [1] and details["messageStatus"] == "Delivered"
    assert details["summary"][-1]["lastEvent"] is True
    assert details["summary"][0]["description"] == "Message 1 received from 127.0.0.1"
    missing = api.get(f"{ESA}/message-tracking/details", params={**dates(esa), "mid": "99"}, headers=auth)
    assert missing.status_code == 404 and "error" in missing.json()
    no_dates = api.get(f"{ESA}/message-tracking/details", params={"mid": "1"}, headers=auth)
    assert no_dates.json() == MISSING_DATES


def test_cloud_bearer_token_reads_tracking_only(esa: SimAppliance) -> None:
    esa.send_mail(make_mail("seen by CTR"), "a@example.com", ["b@example.com"])
    bearer = {"Authorization": f"Bearer {esa.appliance.api_token}"}
    assert tracking(esa, headers=bearer)["meta"]["totalCount"] == 1
    api = esa.api()
    assert api.get(f"{ESA}/health", headers=bearer).status_code == 401
    wrong = api.get(f"{ESA}/message-tracking/messages", params=dates(esa), headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401 and wrong.json() == UNAUTHORIZED


def test_sma_serves_the_sma_prefix_only(make_appliance: Factory) -> None:
    sma = make_appliance(kind="sma", version="12.5.0-100", name="sma1")
    api = sma.api()
    auth = basic_auth("admin", sma.password)
    assert api.get("/sma/api/v2.0/health", headers=auth).status_code == 200
    response = api.get(f"{ESA}/health", headers=auth)
    assert response.status_code == 404
    assert response.json()["error"]["explanation"] == "404 = Nothing matches the given URI."


def test_unknown_routes_and_methods_answer_in_json(esa: SimAppliance) -> None:
    api = esa.api()
    auth = basic_auth("admin", esa.password)
    missing = api.get(f"{ESA}/no-such-thing", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "404"
    wrong_method = api.get(f"{ESA}/login", headers=auth)
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "405"


def test_request_log_records_api_calls_without_secrets(esa: SimAppliance) -> None:
    api = esa.api()
    token = api.post(f"{ESA}/login", json=login_body("admin", esa.password)).json()["data"]["jwtToken"]
    api.get(f"{ESA}/health", params={"probe": token}, headers={"jwtToken": token})
    entries = esa.reqlog.entries(service="appliance/esa03/api")
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", f"{ESA}/login", 200), ("GET", f"{ESA}/health", 200)]
    assert token not in json.dumps(entries)
