"""The SSE device registry (VER-1), the connector life cycle (REG-5, REG-9), Cloud Services (PRE-2) and EST."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from .support import CloudLab, device_body

CREATED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$")


def test_a_registered_device_is_listed_with_the_ver1_fields(lab: CloudLab) -> None:
    device_id = lab.register("nam", name="esa03.mex-amp.inlab")
    devices = lab.admin("nam").get("/api/v1/devices").json()["devices"]
    assert len(devices) == 1
    device = devices[0]
    assert device["id"] == device_id and uuid.UUID(device_id)
    assert (device["name"], device["type"], device["version"], device["status"], device["description"],
            device["ip"], device["connector_version"]) == (
        "esa03.mex-amp.inlab", "ESA", "13.0.0", "Registered", "ESA", "127.0.0.1", "1.3.34")
    assert CREATED.match(device["created"])
    created = datetime.strptime(device["created"], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
    assert abs((created - lab.clock.now()).total_seconds()) < 5, "created comes from the lab clock"
    assert "api_token" not in device and "api_url" not in device


def test_the_created_time_follows_the_simulated_clock(lab: CloudLab) -> None:
    before = lab.clock.now()
    lab.clock.advance(86400 * 3)
    lab.register("nam")
    created = lab.admin("nam").get("/api/v1/devices").json()["devices"][0]["created"]
    moment = datetime.strptime(created, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
    assert 86400 * 3 - 1 <= (moment - before).total_seconds() < 86400 * 3 + 5


def test_the_device_list_is_per_region_and_searchable(lab: CloudLab) -> None:
    lab.register("nam", name="esa03.mex-amp.inlab")
    second = lab.register("nam", name="sma01.mex-amp.inlab", kind="SMA")
    lab.register("eu", name="esa-eu.example.com")
    admin = lab.admin("nam")
    assert [d["name"] for d in admin.get("/api/v1/devices").json()["devices"]] == [
        "esa03.mex-amp.inlab", "sma01.mex-amp.inlab"]
    assert [d["id"] for d in admin.get("/api/v1/devices", params={"search": "sma01"}).json()["devices"]] == [second]
    assert [d["id"] for d in admin.get("/api/v1/devices", params={"search": second}).json()["devices"]] == [second]
    assert admin.get(f"/api/v1/devices/{second}").json()["type"] == "SMA"
    assert [d.name for d in lab.sse.devices("eu")] == ["esa-eu.example.com"]


def test_register_validates_the_device(lab: CloudLab) -> None:
    api = lab.device_api("nam")
    body = device_body("esa03", "FMC", None)
    reply = api.post("/connector/v1/register", json={"token": lab.generate_token("nam"), "device": body})
    assert reply.status_code == 400 and reply.json()["field"] == "device.type"
    reply = api.post("/connector/v1/register", json={"token": lab.generate_token("nam"), "device": {"type": "ESA"}})
    assert reply.json()["field"] == "device.name"
    assert api.post("/connector/v1/register", data="not json").status_code == 400


def test_deregister_needs_the_device_credentials(lab: CloudLab) -> None:
    body = device_body("esa03", "ESA", None)
    device_id = lab.device_api("nam").post("/connector/v1/register", json={
        "token": lab.generate_token("nam"), "device": body}).json()["device_id"]
    api = lab.device_api("nam")
    wrong = api.post("/connector/v1/deregister", json={"device_id": device_id},
                     headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_credentials"
    other_region = lab.device_api("eu").post("/connector/v1/deregister", json={"device_id": device_id},
                                             headers={"Authorization": f"Bearer {body['api_token']}"})
    assert other_region.status_code == 404
    ok = api.post("/connector/v1/deregister", json={"device_id": device_id},
                  headers={"Authorization": f"Bearer {body['api_token']}"})
    assert ok.status_code == 200 and ok.json() == {"device_id": device_id, "status": "Deregistered"}
    assert lab.admin("nam").get("/api/v1/devices").json()["devices"] == []


def test_reregister_without_a_token_uses_the_smart_account(lab: CloudLab) -> None:
    """REG-9: the device keeps its registration, re-associated through its smart account."""
    device_id = lab.register("nam")
    api = lab.device_api("nam")
    reply = api.post("/connector/v1/reregister", json={"device_id": device_id, "smart_account": "lab-account",
                                                       "token": None, "device": device_body("esa03", "ESA", None)})
    assert reply.status_code == 200 and reply.json() == {"device_id": device_id, "status": "Registered"}
    assert lab.sse.devices("nam")[0].smart_account == "lab-account"
    missing = api.post("/connector/v1/reregister", json={"device_id": device_id, "smart_account": ""})
    assert missing.status_code == 400 and missing.json()["field"] == "smart_account"


def test_reregister_into_another_region_through_the_smart_account(lab: CloudLab) -> None:
    device_id = lab.register("nam")
    reply = lab.device_api("eu").post("/connector/v1/reregister", json={
        "device_id": device_id, "smart_account": "lab-account", "device": device_body("esa03", "ESA", None)})
    assert reply.status_code == 200 and reply.json()["device_id"] == device_id
    assert [d.id for d in lab.sse.devices("eu")] == [device_id]


def test_reregister_with_a_token_registers_anew(lab: CloudLab) -> None:
    device_id = lab.register("nam")
    token = lab.generate_token("nam")
    api = lab.device_api("nam")
    reply = api.post("/connector/v1/reregister", json={"device_id": device_id, "smart_account": None,
                                                       "token": token, "device": device_body("esa03", "ESA", None)})
    assert reply.status_code == 200
    new_id = reply.json()["device_id"]
    assert new_id != device_id and [d.id for d in lab.sse.devices("nam")] == [new_id]
    reused = api.post("/connector/v1/reregister", json={"device_id": new_id, "token": token,
                                                        "device": device_body("esa03", "ESA", None)})
    assert reused.status_code == 403 and reused.json()["error"] == "token_used"


def test_deleting_a_device_in_the_portal(lab: CloudLab) -> None:
    device_id = lab.register("nam")
    admin = lab.admin("nam")
    assert admin.delete(f"/api/v1/devices/{device_id}").status_code == 204
    assert admin.get(f"/api/v1/devices/{device_id}").status_code == 404
    assert admin.delete(f"/api/v1/devices/{device_id}").status_code == 404


def test_threat_response_is_off_until_enabled_on_the_cloud_services_tab(lab: CloudLab) -> None:
    admin = lab.admin("nam")
    services = admin.get("/api/v1/cloud-services").json()["cloud_services"]
    assert services == [{"id": "threat-response", "name": "Cisco Threat Response", "enabled": False,
                         "description": services[0]["description"]}]
    assert "Threat Response enablement" in services[0]["description"]
    assert admin.put("/api/v1/cloud-services/threat-response", json={"enabled": "yes"}).json()["field"] == "enabled"
    assert admin.put("/api/v1/cloud-services/threat-response", json={"enabled": True}).json()["enabled"] is True
    assert lab.sse.tenant("nam").threat_response_enabled and not lab.sse.tenant("eu").threat_response_enabled
    assert admin.put("/api/v1/cloud-services/other", json={"enabled": True}).status_code == 404
    lab.control().post("/_sim/sse/nam/threat-response", json={"enabled": False})
    assert admin.get("/api/v1/tenant").json()["cloud_services"][0]["enabled"] is False


def test_a_disabled_tenant_still_registers_devices(lab: CloudLab) -> None:
    assert not lab.sse.tenant("nam").threat_response_enabled
    lab.register("nam")
    assert len(lab.admin("nam").get("/api/v1/devices").json()["devices"]) == 1


def test_injected_faults_make_the_device_api_unavailable(lab: CloudLab) -> None:
    control = lab.control()
    assert control.post("/_sim/sse/nam/faults", json={"device_api_status": 503}).status_code == 200
    token = lab.generate_token("nam")
    reply = lab.device_api("nam").post("/connector/v1/register", json={
        "token": token, "device": device_body("esa03", "ESA", None)})
    assert reply.status_code == 503
    assert lab.device_api("eu").post("/connector/v1/register", json={}).status_code == 400
    assert control.post("/_sim/sse/nam/faults", json={"device_api_status": 200}).status_code == 400
    control.delete("/_sim/sse/nam/faults")
    assert lab.register("nam", token=token)


def test_est_serves_the_lab_ca_and_enrolls_a_device_certificate(lab: CloudLab) -> None:
    est = lab.http(lab.est_url)
    cacerts = est.get("/.well-known/est/cacerts")
    assert cacerts.status_code == 200 and cacerts.headers["Content-Type"].startswith("application/pkcs7-mime")
    (ca_cert,) = pkcs7.load_der_pkcs7_certificates(base64.b64decode(cacerts.content))
    assert ca_cert.public_bytes(serialization.Encoding.PEM) == lab.ca.ca_cert_pem()

    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "esa03.mex-amp.inlab")]))
           .sign(key, hashes.SHA256()))
    reply = est.post("/.well-known/est/simpleenroll",
                     data=base64.b64encode(csr.public_bytes(serialization.Encoding.DER)),
                     headers={"Content-Type": "application/pkcs10", "Content-Transfer-Encoding": "base64"})
    assert reply.status_code == 200 and "smime-type=certs-only" in reply.headers["Content-Type"]
    (issued,) = pkcs7.load_der_pkcs7_certificates(base64.b64decode(reply.content))
    assert issued.subject == csr.subject and issued.issuer == ca_cert.subject
    assert issued.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    assert est.post("/.well-known/est/simpleenroll", data=b"garbage").status_code == 400
    assert lab.control().get("/_sim/sse").json()["est"]["enrollments"] == 1
