"""CTIM observables: the type vocabulary of the IROH and CTIA specs and request-body checks."""

from __future__ import annotations

from typing import Any

# The 63 observable types of the Observable definition (identical in the IROH and CTIA specs).
OBSERVABLE_TYPES = frozenset({
    "acudid", "amp_computer_guid", "certificate_common_name", "certificate_issuer", "certificate_serial",
    "cisco_cm_id", "cisco_mid", "cisco_uc_id", "cortex_agent_id", "crowdstrike_id", "cvm_id", "cybereason_id",
    "darktrace_id", "device", "domain", "email", "email_messageid", "email_subject", "file_name", "file_path",
    "google_chromebook_id", "google_cloud_id", "hostname", "imei", "imsi", "intune_id", "ip", "ipv6",
    "jamf_management_id", "mac_address", "md5", "meraki_network_id", "meraki_node_sn", "meraki_org_id",
    "ms_machine_id", "mutex", "ngfw_id", "ngfw_name", "odns_identity", "odns_identity_label", "orbital_node_id",
    "pki_serial", "process_args", "process_hash", "process_name", "process_path", "process_uid",
    "process_username", "processor_id", "registry_key", "registry_name", "registry_path", "s1_agent_id",
    "secure_access_id", "serial_number", "service_now_id", "sha1", "sha256", "swc_device_id", "trend_micro_id",
    "url", "user", "user_agent",
})

Observable = dict[str, str]


def observable(kind: str, value: str) -> Observable:
    return {"type": kind, "value": value}


def observable_problem(item: Any) -> str | None:
    """Why ``item`` is not a valid Observable ({type, value}, nothing else), or None."""
    if not isinstance(item, dict):
        return "must be an object {type, value}"
    extra = sorted(set(item) - {"type", "value"})
    if extra:
        return f"has the disallowed key {extra[0]!r}"
    if "type" not in item:
        return "type: missing-required-key"
    if "value" not in item:
        return "value: missing-required-key"
    if not isinstance(item["value"], str):
        return "value: must be a string"
    if item["type"] not in OBSERVABLE_TYPES:
        return f"type: {item['type']!r} is not an observable type"
    return None


def observable_list(body: Any, name: str = "body") -> list[Observable] | str:
    """The observables of a request body (an array), or a message naming the first offending item."""
    if not isinstance(body, list):
        return f"{name} must be an array of observables"
    for index, item in enumerate(body):
        problem = observable_problem(item)
        if problem:
            return f"{name}[{index}] {problem}"
    return [observable(item["type"], item["value"]) for item in body]


def unique(items: list[Observable]) -> list[Observable]:
    seen: set[tuple[str, str]] = set()
    out = []
    for item in items:
        key = (item["type"], item["value"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
