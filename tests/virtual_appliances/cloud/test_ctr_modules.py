"""Module types and instances (VER-3, VER-8, TS-1) and the devices page (VER-2)."""

from __future__ import annotations

from typing import Any

from .specs import assert_array_of, assert_valid
from .support import CloudLab, HttpClient


def module_types(api: HttpClient) -> dict[str, dict[str, Any]]:
    reply = api.get("/iroh/iroh-int/module-type")
    assert reply.status_code == 200, reply.text
    assert_array_of("iroh-int", "ModuleType", reply.json())
    return {t["title"]: t for t in reply.json()}


def field(module_type: dict[str, Any], label: str) -> dict[str, Any]:
    return next(f for f in module_type["configuration_spec"] if f["label"] == label)


def test_the_email_module_form_defaults(lab: CloudLab) -> None:
    """VER-3: Module Name "<name> Email Security Appliance", Registered Device, Request Timeframe 30 days."""
    esa = module_types(lab.api("nam"))["Email Security Appliance"]
    assert esa["default_name"].endswith(" Email Security Appliance")
    assert field(esa, "Registered Device")["type"] == "device" and field(esa, "Registered Device")["required"]
    assert field(esa, "Request Timeframe (days)")["default_value"] == 30
    assert field(esa, "Remediation Forward Address")["type"] == "string"
    assert {"observe", "respond", "health"} <= {c["id"] for c in esa["capabilities"]}


def test_the_device_choice_needs_threat_response_enabled_in_sse(lab: CloudLab) -> None:
    """TS-1: the registered appliance is missing from Registered Device until SSE enables Threat Response."""
    device_id = lab.register("nam", name="esa03.mex-amp.inlab")
    api = lab.api("nam")
    assert field(module_types(api)["Email Security Appliance"], "Registered Device")["options"] == []
    lab.set_threat_response("nam", True)
    options = field(module_types(api)["Email Security Appliance"], "Registered Device")["options"]
    assert [o["value"] for o in options] == [device_id]
    label = options[0]["label"]
    assert label.startswith("esa03.mex-amp.inlab") and "Type ESA" in label
    assert f"ID {device_id}" in label and "IP Address 127.0.0.1" in label


def test_choices_are_per_region_and_per_device_type(lab: CloudLab) -> None:
    esa = lab.register("nam", name="esa03.mex-amp.inlab")
    sma = lab.register("nam", name="sma01.mex-amp.inlab", kind="SMA")
    lab.register("eu", name="esa-eu.example.com")
    lab.set_threat_response("nam", True)
    lab.set_threat_response("eu", True)
    types = module_types(lab.api("nam"))
    assert [o["value"] for o in field(types["Email Security Appliance"], "Registered Device")["options"]] == [esa]
    assert [o["value"] for o in field(types["SMA Email"], "Registered Device")["options"]] == [sma]
    eu_types = module_types(lab.api("eu"))
    assert [o["label"].split(" ")[0] for o in field(eu_types["Email Security Appliance"], "Registered Device")[
        "options"]] == ["esa-eu.example.com"]


def test_adding_and_managing_a_module_instance(lab: CloudLab) -> None:
    device_id = lab.register("nam")
    lab.set_threat_response("nam", True)
    api = lab.api("nam")
    esa = module_types(api)["Email Security Appliance"]
    created = api.post("/iroh/iroh-int/module-instance", json={
        "name": esa["default_name"], "module_type_id": esa["id"], "visibility": "org",
        "settings": {"registered_device": device_id, "remediation_forward_address": "soc@example.com"}})
    assert created.status_code == 200, created.text
    instance = created.json()
    assert_valid("iroh-int", "ModuleInstanceResponse", instance)
    assert instance["settings"] == {"registered_device": device_id, "request_timeframe": 30,
                                    "remediation_forward_address": "soc@example.com"}
    listed = api.get("/iroh/iroh-int/module-instance", params={"module_type_id": esa["id"]}).json()
    assert [i["id"] for i in listed] == [instance["id"]]
    patched = api.patch(f"/iroh/iroh-int/module-instance/{instance['id']}",
                        json={"name": "esa03 Email Security Appliance", "settings": {"request_timeframe": 7}})
    assert patched.status_code == 200 and patched.json()["settings"]["request_timeframe"] == 7
    assert_valid("iroh-int", "ModuleInstanceResponse", patched.json())
    assert api.get(f"/iroh/iroh-int/module-instance/{instance['id']}").json()["name"] == (
        "esa03 Email Security Appliance")
    assert api.delete(f"/iroh/iroh-int/module-instance/{instance['id']}").status_code == 204
    assert api.get(f"/iroh/iroh-int/module-instance/{instance['id']}").status_code == 404


def test_module_instance_validation_names_the_field(lab: CloudLab) -> None:
    device_id = lab.register("nam")
    api = lab.api("nam")
    esa = module_types(api)["Email Security Appliance"]
    base = {"name": "x", "module_type_id": esa["id"], "visibility": "org"}

    def problem(body: dict[str, Any]) -> str:
        reply = api.post("/iroh/iroh-int/module-instance", json=body)
        assert reply.status_code == 400, reply.text
        return str(reply.json()["error_description"])

    assert problem({"module_type_id": esa["id"], "visibility": "org"}).startswith("name")
    assert problem({"name": "x", "module_type_id": esa["id"]}).startswith("visibility")
    assert problem({**base, "visibility": "world"}).startswith("visibility")
    assert problem({**base, "module_type_id": "nope"}).startswith("module_type_id")
    assert "registered_device" in problem(base)
    # Threat Response is still disabled in SSE: the device is not a valid choice (TS-1).
    assert "registered_device" in problem({**base, "settings": {"registered_device": device_id}})
    lab.set_threat_response("nam", True)
    assert "request_timeframe" in problem({**base, "settings": {"registered_device": device_id,
                                                                "request_timeframe": 0}})
    assert "remediation_forward_address" in problem({**base, "settings": {
        "registered_device": device_id, "remediation_forward_address": "not-an-address"}})
    assert problem({**base, "colour": "red"}).startswith("colour")


def test_sma_web_is_beta_and_needs_the_sma_email_module(lab: CloudLab) -> None:
    """VER-8: once the SMA is added as a module, the SMA Web module (beta) can be configured."""
    sma = lab.register("nam", name="sma01.mex-amp.inlab", kind="SMA")
    lab.set_threat_response("nam", True)
    api = lab.api("nam")
    types = module_types(api)
    assert "beta" in types["SMA Web"]["flags"] and "beta" not in types["SMA Email"]["flags"]
    refused = api.post("/iroh/iroh-int/module-instance", json={
        "name": "web", "module_type_id": types["SMA Web"]["id"], "visibility": "org",
        "settings": {"registered_device": sma}})
    assert refused.status_code == 400 and "SMA Email" in refused.json()["error_description"]
    lab.add_module(api, sma, kind="sma-email")
    web = lab.add_module(api, sma, kind="sma-web")
    assert web["module_type_id"] == types["SMA Web"]["id"]


def test_the_devices_page_lists_sse_devices_once_threat_response_is_enabled(lab: CloudLab) -> None:
    """VER-2, and TS-1's "the ESA device is not shown in the CTR portal"."""
    device_id = lab.register("nam", name="esa03.mex-amp.inlab")
    api = lab.api("nam")
    assert api.get("/iroh/iroh-sse/device").json() == []
    lab.set_threat_response("nam", True)
    devices = api.get("/iroh/iroh-sse/device").json()
    assert [(d["id"], d["name"], d["type"], d["status"]) for d in devices] == [
        (device_id, "esa03.mex-amp.inlab", "ESA", "Registered")]
    assert "api_token" not in devices[0]
    assert api.get(f"/iroh/iroh-sse/device/{device_id}").json()["id"] == device_id
    assert lab.api("eu").get("/iroh/iroh-sse/device").json() == []
