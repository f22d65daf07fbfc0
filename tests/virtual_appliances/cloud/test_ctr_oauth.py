"""OAuth2 client credentials, bearer checks, scopes and the organisation rate limit (ctr-api.md section 2)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests

from .specs import assert_valid
from .support import CloudLab


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def token_request(lab: CloudLab, region: str, auth: Any, data: Any = None) -> requests.Response:
    return lab.http(lab.regions[region].api).post(
        "/iroh/oauth2/token", data=data if data is not None else {"grant_type": "client_credentials"}, auth=auth,
        headers={"Accept": "application/json"})


def test_client_credentials_give_a_600_second_bearer_token(lab: CloudLab) -> None:
    client_id, secret = lab.new_client("nam", ["enrich:read", "casebook", "inspect:read"])
    assert client_id.startswith("client-")
    reply = token_request(lab, "nam", (client_id, secret))
    assert reply.status_code == 200 and reply.headers["X-Ratelimit-Org-Limit"] == "8000"
    body = reply.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 600
    assert body["scope"] == "enrich:read casebook inspect:read"
    jwt = claims(body["access_token"])
    assert jwt["iss"] == "IROH Auth NAM" and jwt["exp"] - jwt["iat"] == 600
    eu_token = lab.access_token("eu", *lab.new_client("eu", ["inspect:read"]))
    assert claims(eu_token)["iss"] == "IROH Auth EU"


def test_bad_client_credentials_are_invalid_client(lab: CloudLab) -> None:
    client_id, secret = lab.new_client("nam", ["inspect:read"])
    for auth in ((client_id, "wrong"), ("client-00000000-0000-0000-0000-000000000000", secret), None):
        reply = token_request(lab, "nam", auth)
        assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"
    assert token_request(lab, "eu", (client_id, secret)).status_code == 401, "clients belong to one region"
    wrong_grant = token_request(lab, "nam", (client_id, secret), data={"grant_type": "password"})
    assert wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"


def test_a_missing_bearer_token_is_the_documented_401(lab: CloudLab) -> None:
    reply = lab.http(lab.regions["nam"].api).post("/iroh/iroh-inspect/inspect", json={"content": "1.2.3.4"})
    assert reply.status_code == 401 and reply.headers["X-Ratelimit-Org-Limit"] == "8000"
    body = reply.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"] == "No JWT found in HTTP Authorization header"
    assert_valid("iroh-inspect", "401", body)
    assert_valid("iroh-enrich", "NormalizedError-401", body)
    intel = lab.http(lab.regions["nam"].intel).get("/ctia/casebook/search")
    assert intel.status_code == 401 and intel.json()["error_description"].startswith("No JWT")


def test_tokens_expire_after_600_simulated_seconds(lab: CloudLab) -> None:
    api = lab.api("nam", ["inspect:read"])
    assert api.post("/iroh/iroh-inspect/inspect", json={"content": "x"}).status_code == 200
    lab.clock.advance(599)
    assert api.post("/iroh/iroh-inspect/inspect", json={"content": "x"}).status_code == 200
    lab.clock.advance(2)
    expired = api.post("/iroh/iroh-inspect/inspect", json={"content": "x"})
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"
    assert "expired" in expired.json()["error_description"]
    assert_valid("iroh-inspect", "401", expired.json())


def test_a_token_of_another_region_is_rejected(lab: CloudLab) -> None:
    eu_token = lab.access_token("eu", *lab.new_client("eu", ["inspect:read"]))
    reply = lab.http(lab.regions["nam"].api, Authorization=f"Bearer {eu_token}").post(
        "/iroh/iroh-inspect/inspect", json={"content": "x"})
    assert reply.status_code == 401 and "IROH Auth EU" in reply.json()["error_description"]
    garbage = lab.http(lab.regions["nam"].api, Authorization="Bearer not.a.jwt").post(
        "/iroh/iroh-inspect/inspect", json={"content": "x"})
    assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_token"


def test_a_missing_scope_is_a_403_listing_the_scopes(lab: CloudLab) -> None:
    api = lab.api("nam", ["casebook"])
    reply = api.post("/iroh/iroh-inspect/inspect", json={"content": "x"})
    assert reply.status_code == 403
    body = reply.json()
    assert body["error"] == "missing_scope"
    assert body["error_description"] == "You do not have the required credentials to access this route."
    assert body["missing-scopes"] == ["inspect:read"] and body["required-scopes"] == ["inspect:read"]
    assert body["scopes"] == ["casebook"] and body["trace_id"].startswith("ctx-")
    assert_valid("iroh-inspect", "403", body)


@pytest.mark.parametrize(("scopes", "method", "path", "allowed"), [
    (["enrich"], "post", "/iroh/iroh-enrich/observe/observables", True),
    (["enrich:read"], "post", "/iroh/iroh-enrich/observe/observables", True),
    (["enrich/observables/observe:read"], "post", "/iroh/iroh-enrich/deliberate/observables", False),
    (["inspect:read"], "post", "/iroh/iroh-enrich/observe/observables", False),
    (["integration:read"], "get", "/iroh/iroh-int/module-instance", True),
    (["integration:read"], "post", "/iroh/iroh-int/module-instance", False),
    (["integration:read"], "post", "/iroh/iroh-enrich/health", True),
    (["response"], "post", "/iroh/iroh-response/respond/observables", True),
    (["enrich:read"], "post", "/iroh/iroh-response/respond/observables", False),
    (["casebook"], "get", "/iroh/iroh-enrich/settings", True),
    (["sse"], "get", "/iroh/iroh-sse/device", True),
    (["inspect:read"], "get", "/iroh/iroh-sse/device", False),
    (["profile"], "get", "/iroh/profile/whoami", True),
    (["users:read"], "get", "/iroh/profile/whoami", False),
])
def test_root_scopes_cover_their_sub_scopes(lab: CloudLab, scopes: list[str], method: str, path: str,
                                            allowed: bool) -> None:
    api = lab.api("nam", scopes)
    reply = api.request(method, path, json=[] if method == "post" else None)
    assert (reply.status_code != 403) is allowed, reply.text


def test_the_ribbon_scopes_rib1_and_the_casebook_subset_rib2(lab: CloudLab) -> None:
    ribbon = ["casebook", "enrich:read", "global-intel:read", "inspect:read", "integration:read", "profile",
              "private-intel", "response", "registry/user/ribbon", "telemetry:write", "users:read", "orbital"]
    token = lab.access_token("nam", *lab.new_client("nam", ribbon))
    assert claims(token)["https://schemas.cisco.com/iroh/identity/claims/scopes"] == ribbon
    casebook_only = lab.api("nam", ["casebook", "private-intel", "inspect:read"])
    assert casebook_only.post("/iroh/iroh-inspect/inspect", json={"content": "cisco.com"}).status_code == 200
    assert casebook_only.post("/iroh/iroh-enrich/observe/observables", json=[]).status_code == 403
    pivot_only = lab.api("nam", ["enrich", "response"])
    assert pivot_only.post("/iroh/iroh-enrich/observe/observables", json=[]).status_code == 200
    assert pivot_only.post("/iroh/iroh-inspect/inspect", json={"content": "x"}).status_code == 403


def test_whoami_names_the_client_and_its_organisation(lab: CloudLab) -> None:
    client_id, secret = lab.new_client("eu", ["profile", "inspect:read"])
    api = lab.http(lab.regions["eu"].api, Authorization=f"Bearer {lab.access_token('eu', client_id, secret)}")
    body = api.get("/iroh/profile/whoami").json()
    assert body["user"]["client-id"] == client_id and body["user"]["scopes"] == ["profile", "inspect:read"]
    assert body["org"]["region"] == "eu" and body["user"]["org-id"] == body["org"]["id"]


def test_unknown_scopes_cannot_be_given_to_a_client(lab: CloudLab) -> None:
    reply = lab.control().post("/_sim/ctr/nam/clients", json={"scopes": ["inspect:read", "telepathy"]})
    assert reply.status_code == 400 and reply.json()["field"] == "scopes"


def test_the_organisation_rate_limit_answers_429_with_retry_after(lab: CloudLab) -> None:
    lab.control().post("/_sim/ctr/nam/rate-limit", json={"limit": 3, "window_seconds": 3600})
    first = lab.api("nam", ["inspect:read"])
    second = lab.api("nam", ["inspect:read"])  # clients of one organisation share the limit
    for api in (first, second, first):
        reply = api.post("/iroh/iroh-inspect/inspect", json={"content": "x"})
        assert reply.status_code == 200 and reply.headers["X-Ratelimit-Org-Limit"] == "3"
    lab.clock.advance(500)
    limited = second.post("/iroh/iroh-inspect/inspect", json={"content": "x"})
    assert limited.status_code == 429 and limited.headers["X-Ratelimit-Org-Limit"] == "3"
    assert 3090 <= int(limited.headers["Retry-After"]) <= 3100
    assert len(limited.content) == 30
    assert lab.api("eu", ["inspect:read"]).post("/iroh/iroh-inspect/inspect", json={"content": "x"}).ok
    lab.clock.advance(int(limited.headers["Retry-After"]))
    # The window has rolled past the first requests; the old tokens expired meanwhile.
    assert lab.api("nam", ["inspect:read"]).post("/iroh/iroh-inspect/inspect", json={"content": "x"}).ok


def test_revoked_keys_and_deleted_clients_give_401(lab: CloudLab) -> None:
    client_id, secret = lab.new_client("nam", ["inspect:read"])
    api = lab.http(lab.regions["nam"].api, Authorization=f"Bearer {lab.access_token('nam', client_id, secret)}")
    lab.control().post("/_sim/ctr/nam/tokens/revoke")
    assert api.post("/iroh/iroh-inspect/inspect", json={"content": "x"}).status_code == 401
    api.headers["Authorization"] = f"Bearer {lab.access_token('nam', client_id, secret)}"
    assert api.post("/iroh/iroh-inspect/inspect", json={"content": "x"}).status_code == 200
    assert lab.control().delete(f"/_sim/ctr/nam/clients/{client_id}").status_code == 204
    assert api.post("/iroh/iroh-inspect/inspect", json={"content": "x"}).status_code == 401
    assert token_request(lab, "nam", (client_id, secret)).status_code == 401


def test_a_client_recreated_after_reset_keeps_its_credentials(lab: CloudLab) -> None:
    """What the lab does on /_sim/reset so the testbed it wrote stays valid."""
    client_id, secret = lab.ctr.create_client("nam", ["inspect:read"], name="ctrlab harness")
    lab.ctr.reset()
    assert token_request(lab, "nam", (client_id, secret)).status_code == 401
    assert lab.ctr.create_client("nam", ["inspect:read"], client_id=client_id, secret=secret) == (client_id, secret)
    assert token_request(lab, "nam", (client_id, secret)).status_code == 200


def test_an_injected_fault_answers_every_call(lab: CloudLab) -> None:
    api = lab.api("nam", ["inspect:read"])
    lab.control().post("/_sim/ctr/nam/faults", json={"api_status": 503})
    reply = api.post("/iroh/iroh-inspect/inspect", json={"content": "x"})
    assert reply.status_code == 503 and reply.json()["error"] == "unknown-exception"
    assert_valid("iroh-inspect", "500", reply.json())
    lab.control().delete("/_sim/ctr/nam/faults")
    assert api.post("/iroh/iroh-inspect/inspect", json={"content": "x"}).status_code == 200
