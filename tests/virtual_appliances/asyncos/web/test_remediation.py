"""Remediation called back by Threat Response with the appliance's api_token (REM-1, REM-2)."""

from __future__ import annotations

from typing import Any

import requests

from virtual_appliances.asyncos import messages as msg

from .support import SimAppliance, make_mail, page_text

REMEDIATION = "/esa/api/v2.0/message-tracking/remediation"
ACCOUNT = "/system_administration/account_settings"


def remediate(sim: SimAppliance, data: dict[str, Any], token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or sim.appliance.api_token}"}
    return sim.api().post(REMEDIATION, json={"data": data}, headers=headers)


def enable_remediation_profile(sim: SimAppliance, commit: bool = True) -> None:
    client = sim.gui()
    html = client.get(ACCOUNT).text
    assert "Enable Remediation Profile" in page_text(html)
    client.submit(ACCOUNT, remediation_profile="on", action="submit")
    if commit:
        client.get("/commit?referrer=" + ACCOUNT)
        response = client.submit("/commit", action="commit", referrer=ACCOUNT)
        assert msg.COMMITTED in page_text(response.text)
        assert "Remediation Profile: Enabled" in page_text(response.text)


def test_refused_without_a_remediation_profile(esa: SimAppliance) -> None:
    """REM-1: no profile, no remediation."""
    esa.send_mail(make_mail("phish"), "bad@evil.example", ["victim@example.com"])
    response = remediate(esa, {"mids": [1], "action": "delete"})
    assert response.status_code == 403
    assert response.json()["error"] == {"message": msg.API_REMEDIATION_DISABLED, "code": "403",
                                        "explanation": "403 = Request forbidden -- authorization will not help."}
    assert esa.call(esa.appliance.tracking.get, 1).state == "Delivered"


def test_a_staged_profile_is_not_enough(esa: SimAppliance) -> None:
    """REM-1 + the commit model: the profile counts once committed."""
    esa.send_mail(make_mail("phish"), "bad@evil.example", ["victim@example.com"])
    enable_remediation_profile(esa, commit=False)
    assert "Remediation Profile: Disabled" in esa.gui().text(ACCOUNT)
    assert remediate(esa, {"mids": [1], "action": "delete"}).status_code == 403


def test_delete_forward_and_forward_and_delete(esa: SimAppliance) -> None:
    """REM-2: the three actions, recorded in tracking."""
    for i in range(3):
        esa.send_mail(make_mail(f"phish {i}"), "bad@evil.example", ["victim@example.com"])
    enable_remediation_profile(esa)
    response = remediate(esa, {"mids": [1, 42], "action": "delete"})
    assert response.status_code == 200
    assert response.json()["data"] == {"action": "delete", "forwardAddress": None, "mids": [1], "notFound": [42]}
    response = remediate(esa, {"mids": ["2"], "action": "forward", "forwardAddress": "soc@example.com"})
    assert response.status_code == 200 and response.json()["data"]["mids"] == [2]
    response = remediate(esa, {"mids": [3], "action": "forward_and_delete", "forwardAddress": "soc@example.com"})
    assert response.status_code == 200
    tracking = esa.appliance.tracking
    assert esa.call(tracking.get, 1).last_state == "Message 1 remediated: deleted from the mailbox"
    assert esa.call(tracking.get, 2).last_state == "Message 2 remediated: forwarded to soc@example.com"
    assert esa.call(tracking.get, 3).state == "Remediated"
    text = esa.gui().text("/monitor_email_tracking/message_tracking?action=Search&subject=phish")
    assert "LAST STATE: Message 1 remediated: deleted from the mailbox" in text


def test_bad_remediation_requests(esa: SimAppliance) -> None:
    enable_remediation_profile(esa)
    for data in ({"mids": [], "action": "delete"}, {"mids": [1], "action": "quarantine"},
                 {"mids": [1], "action": "forward"}, {"mids": "1", "action": "delete"}):
        response = remediate(esa, data)
        assert response.status_code == 400, data
        assert response.json()["error"]["code"] == "400"
    assert remediate(esa, {"mids": [1], "action": "delete"}, token="wrong").status_code == 401
