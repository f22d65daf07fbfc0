"""Secrets never appear in the request log, the simulators' logging or the control plane's state dumps."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from .support import CloudLab, FakeAppliance, device_body, seed_message


def test_no_secret_is_logged(lab: CloudLab, appliance: Callable[..., FakeAppliance],
                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    esa = appliance()
    secrets: list[str] = [lab.sse.admin_api_key(r) for r in lab.regions] + [esa.api_token]

    token = lab.generate_token("nam")
    unused = lab.generate_token("eu")
    wrong_region = lab.device_api("nam").post("/connector/v1/register", json={
        "token": unused, "device": device_body("esa03", "ESA", esa)})
    assert wrong_region.status_code == 401
    device_id = lab.register("nam", appliance=esa, token=token)
    lab.set_threat_response("nam", True)
    client_id, client_secret = lab.new_client("nam")
    access = lab.access_token("nam", client_id, client_secret)
    secrets += [token, unused, client_secret, access]

    api = lab.http(lab.regions["nam"].api, Authorization=f"Bearer {access}")
    module = lab.add_module(api, device_id, remediation_forward_address="soc@example.com")
    seed_message(lab, esa)
    assert api.post("/iroh/iroh-enrich/observe/observables", json=[{"type": "cisco_mid", "value": "8"}]).ok
    assert api.post(f"/iroh/iroh-response/respond/trigger/{module['id']}/email-remediation-delete",
                    params={"observable_type": "cisco_mid", "observable_value": "8"}).json()["data"]["status"] == (
        "success")
    lab.http(lab.regions["nam"].api).post("/iroh/oauth2/token", data={"grant_type": "client_credentials"},
                                          auth=(client_id, "a-wrong-password-attempt"))
    secrets.append("a-wrong-password-attempt")
    lab.admin("nam", key="a-guessed-admin-key").get("/api/v1/devices")
    secrets.append("a-guessed-admin-key")
    lab.device_api("nam").post("/connector/v1/deregister", json={"device_id": device_id},
                               headers={"Authorization": f"Bearer {esa.api_token}"})

    entries = lab.reqlog.entries()
    services = {e["service"] for e in entries}
    assert {"sse/nam/admin", "sse/nam/device", "ctr/nam/api", "ctr/nam/appliance", "control"} <= services
    dumps = [json.dumps(entries), caplog.text,
             lab.control().get("/_sim/sse").text, lab.control().get("/_sim/ctr").text]
    for secret in secrets:
        for where, text in zip(("request log", "logging", "SSE state", "CTR state"), dumps, strict=True):
            assert secret not in text, f"a secret ({secret[:4]}...) leaked into the {where}"
