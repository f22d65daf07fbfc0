"""SSE portal tokens (REG-1) and the token rules of the connector protocol (REG-8, TS-4)."""

from __future__ import annotations

import re

import pytest

from .support import CloudLab, device_body

HEX32 = re.compile(r"^[0-9a-f]{32}$")
CHOICES = {"1h": 1, "2h": 2, "4h": 4, "6h": 6, "8h": 8, "12h": 12, "1d": 24, "2d": 48, "3d": 72, "4d": 96, "5d": 120}


def register(lab: CloudLab, region: str, token: str, name: str = "esa03.mex-amp.inlab"):  # type: ignore[no-untyped-def]
    return lab.device_api(region).post("/connector/v1/register",
                                       json={"token": token, "device": device_body(name, "ESA", None)})


def test_defaults_one_token_valid_one_hour_with_the_portal_text(lab: CloudLab) -> None:
    reply = lab.admin("nam").post("/api/v1/tokens", json={})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert len(body["tokens"]) == 1 and HEX32.match(body["tokens"][0])
    assert body["expiration"] == "1h" and body["valid_hours"] == 1
    assert body["message"] == "The following tokens have been generated and will be valid for 1 hour(s):"


@pytest.mark.parametrize("expiration", sorted(CHOICES))
def test_every_expiration_choice_is_offered(lab: CloudLab, expiration: str) -> None:
    body = lab.admin("eu").post("/api/v1/tokens", json={"devices": 2, "expiration": expiration}).json()
    assert body["valid_hours"] == CHOICES[expiration]
    assert f"will be valid for {CHOICES[expiration]} hour(s):" in body["message"]
    assert len(set(body["tokens"])) == 2


def test_a_hundred_devices_at_once_and_save_to_file(lab: CloudLab) -> None:
    admin = lab.admin("nam")
    body = admin.post("/api/v1/tokens", json={"devices": 100, "expiration": "5d"}).json()
    assert len(set(body["tokens"])) == 100 and all(HEX32.match(t) for t in body["tokens"])
    saved = admin.get(f"/api/v1/tokens/{body['batch_id']}/file")
    assert saved.status_code == 200 and saved.headers["Content-Type"].startswith("text/plain")
    assert "attachment" in saved.headers["Content-Disposition"]
    assert saved.text.split() == body["tokens"]


@pytest.mark.parametrize(("body", "field"), [
    ({"devices": 0}, "devices"), ({"devices": 101}, "devices"), ({"devices": "3"}, "devices"),
    ({"devices": True}, "devices"), ({"expiration": "3h"}, "expiration"), ({"expiration": "6d"}, "expiration"),
    ({"expiration": 1}, "expiration"),
])
def test_invalid_choices_are_refused_naming_the_field(lab: CloudLab, body: dict, field: str) -> None:
    reply = lab.admin("nam").post("/api/v1/tokens", json=body)
    assert reply.status_code == 400
    assert reply.json()["field"] == field and field in reply.json()["message"]


def test_the_admin_api_needs_its_own_regions_key(lab: CloudLab) -> None:
    assert lab.admin("nam", key="").get("/api/v1/devices").status_code == 401
    assert lab.admin("nam", key="not-the-key").get("/api/v1/devices").json()["error"] == "unauthorized"
    assert lab.admin("nam", key=lab.sse.admin_api_key("eu")).get("/api/v1/devices").status_code == 401
    assert lab.admin("nam").get("/api/v1/devices").status_code == 200


def test_a_token_registers_once(lab: CloudLab) -> None:
    token = lab.generate_token("nam")
    first = register(lab, "nam", token)
    assert first.status_code == 201 and first.json()["status"] == "Registered"
    again = register(lab, "nam", token, name="esa04.mex-amp.inlab")
    assert again.status_code == 403 and again.json()["error"] == "token_used"


def test_a_token_is_bound_to_the_sse_of_its_region(lab: CloudLab) -> None:
    """REG-8: an EU token (admin.eu.sse.itd.cisco.com) is unknown to NAM SSE, and the other way round."""
    eu_token = lab.generate_token("eu")
    wrong = register(lab, "nam", eu_token)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_token"
    assert register(lab, "apjc", eu_token).json()["error"] == "invalid_token"
    assert register(lab, "eu", eu_token).status_code == 201


def test_unknown_and_malformed_tokens_are_invalid(lab: CloudLab) -> None:
    assert register(lab, "nam", "0" * 32).json()["error"] == "invalid_token"
    missing = lab.device_api("nam").post("/connector/v1/register", json={"device": device_body("x", "ESA", None)})
    assert missing.status_code == 400 and missing.json()["field"] == "token"


def test_tokens_expire_on_the_simulated_clock(lab: CloudLab) -> None:
    one_hour = lab.generate_token("nam", "1h")
    two_days = lab.generate_token("nam", "2d")
    lab.clock.advance(3600)
    expired = register(lab, "nam", one_hour)
    assert expired.status_code == 401 and expired.json()["error"] == "expired_token"
    assert register(lab, "nam", two_days).status_code == 201


def test_the_control_plane_expires_every_token_of_a_region(lab: CloudLab) -> None:
    nam, eu = lab.generate_token("nam", "5d"), lab.generate_token("eu", "5d")
    reply = lab.control().post("/_sim/sse/nam/tokens/expire")
    assert reply.json() == {"expired": 1}
    assert register(lab, "nam", nam).json()["error"] == "expired_token"
    assert register(lab, "eu", eu).status_code == 201
    state = lab.control().get("/_sim/sse/nam").json()
    assert state["token_batches"][0]["expired"] is True
    assert nam not in str(state), "the control plane must not show token values"
