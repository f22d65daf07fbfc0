"""``ctrlab doctor`` on a real bundled lab (an ESA, an SMA and both content security gateway variants): a
healthy integration passes (exit 0); each troubleshooting cause, set up through the control plane or the
documented procedures, is named with the documents' remedy for that product (exit 1); and the diagnosis
changes nothing in the lab."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import cli

from .conftest import DEVICE, DEVICES, DoctorLab

SetVersion = Callable[[str, str], None]
CHECKS = ("version", "firewall/proxy", "SSE Threat Response", "enable committed", "registration", "module",
          "investigation")
# How each appliance's Cloud Service Settings names the setting (ENA-2; ENA-8: gateway1 and gateway2 are the
# two gateway variants of seed 000), as the TS-3 remedy must name it.
FEATURE = {"esa1": "Threat Response", "sma1": "Threat Response", "gateway1": "Cloud Service",
           "gateway2": "Cisco Cloud Services"}
# The documents' enabling procedure for each (seeds 002/004: ESA, 003: SMA 12.5/13.x, 000/001: gateways).
ENABLE = {"esa1": "Edit Settings > check Enable > choose the server > Submit > Commit Changes",
          "sma1": "Edit Settings > check Enable > choose the server > Submit > Commit Changes",
          "gateway1": "Enable > check Enable Cloud Service > choose the SecureX server > Submit > Commit Changes",
          "gateway2": "Enable > check Enable Cisco Cloud Services > choose the Cisco Secure server > Submit"}


@pytest.fixture
def healthy(lab: DoctorLab) -> DoctorLab:
    """The documented integration, set up once and reused while no test resets the lab."""
    if not getattr(lab, "is_healthy", False):
        lab.reset()
        lab.healthy()
        lab.is_healthy = True  # type: ignore[attr-defined]
    return lab


@pytest.fixture
def fresh(lab: DoctorLab) -> Iterator[DoctorLab]:
    lab.reset()
    lab.is_healthy = False  # type: ignore[attr-defined]
    lab.sse["nam"].set_cloud_service(True)  # so only the cause under test fails
    yield lab


def doctor(lab: DoctorLab, capsys: pytest.CaptureFixture[str],
           testbed: Path | None = None) -> tuple[int, str, str, dict[str, Any]]:
    """Run the doctor and check it left the lab as it found it."""
    before = lab.state()
    code = cli.main(["doctor", "--testbed", str(testbed or lab.path), "--timeout", "1", "--wait", "5"])
    out, err = capsys.readouterr()
    after = lab.state()
    assert after == before, f"the doctor changed the lab: {changes(before, after)}"
    return code, out, err, before


def changes(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two states differ, as paths, so a failure says what changed."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [c for k in before.keys() | after.keys()
                for c in changes(before.get(k), after.get(k), f"{path}/{k}")]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [c for i, (b, a) in enumerate(zip(before, after, strict=True)) for c in changes(b, a, f"{path}[{i}]")]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


def row(out: str, check: str, device: str = DEVICE) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"{device} ") and f"  {check}  " in line)


def remedies(out: str) -> str:
    return out.partition("\nremedies:\n")[2]


def remedy(out: str, check: str, device: str = DEVICE) -> str:
    """The remedy printed for one appliance's check (the line under its entry in the remedies section)."""
    lines = remedies(out).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"  {device} {check} ["))
    return lines[at + 1].strip()


@pytest.fixture
def restore_version(lab: DoctorLab) -> Iterator[SetVersion]:
    """Set an appliance's AsyncOS version (a lab fact: a reset keeps it) and put the original back."""
    originals: dict[str, str] = {}

    def set_version(device: str, version: str) -> None:
        originals.setdefault(device, lab.control("GET", f"/appliances/{device}")["version"])
        lab.control("POST", f"/appliances/{device}/spec", {"version": version})

    yield set_version
    for device, version in originals.items():
        lab.control("POST", f"/appliances/{device}/spec", {"version": version})


@pytest.mark.parametrize("device", DEVICES)
def test_a_healthy_integration_passes_every_check(healthy: DoctorLab, capsys: pytest.CaptureFixture[str],
                                                  device: str) -> None:
    # Every check applies to every kind (docs/doctor.md): an SMA and the gateways pass them all, none skipped.
    code, out, err, _ = doctor(healthy, capsys)
    assert code == 0, out
    for check in CHECKS:
        assert "  pass  " in row(out, check, device), out
    assert out.rstrip().endswith(f"{len(CHECKS) * len(DEVICES)} checks: 0 failed, 0 warnings - all pass")
    assert f"{FEATURE[device]}: Enabled, server AMERICAS (api-sse.cisco.com)" in row(out, "enable committed", device)
    need = "12.5" if device.startswith("sma") else "13.0"  # PRE-5: the SMA's minimum is its own
    assert f"(needs {need} or later)" in row(out, "version", device)
    module = "SMA Email" if device.startswith("sma") else "Email Security Appliance"  # VER-3
    assert f"module '{device} {module}'" in row(out, "module", device)
    # progress: each check announced when it starts and when it ends, on stderr
    assert f"doctor: {device}: version ..." in err and f"doctor: {device}: investigation: pass" in err
    assert "doctor: nam: firewall/proxy ..." in err


def test_threat_response_off_in_sse_is_ts1(healthy: DoctorLab, capsys: pytest.CaptureFixture[str]) -> None:
    healthy.sse["nam"].set_cloud_service(False)
    try:
        code, out, _, _ = doctor(healthy, capsys)
    finally:
        healthy.sse["nam"].set_cloud_service(True)
    assert code == 1
    assert "  FAIL  " in row(out, "SSE Threat Response")
    assert "Enable Cisco Threat Response on SSE's Cloud Services tab" in remedies(out)
    # The investigation cannot find the mail while Threat Response is off in SSE: the cause is TS-1, not the
    # investigate syntax of TS-2.
    for device in DEVICES:
        if "  FAIL  " in row(out, "investigation", device):
            assert remedy(out, "investigation", device).startswith("remedy: TS-1/PRE-2: Enable Cisco Threat "
                                                                    "Response"), out
            assert "TS-2" not in remedy(out, "investigation", device)
            assert "Threat Response is disabled in SSE" in row(out, "investigation", device)
    assert "  FAIL  " in row(out, "investigation")  # the ESA at least: the case the issue reports


def test_a_dropped_fqdn_is_named_with_the_firewall_remedy(healthy: DoctorLab,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    rule = {"fqdn": "api-sse.cisco.com", "port": 443}
    healthy.control("POST", "/netlab/firewall", {**rule, "action": "drop"})
    try:
        code, out, _, _ = doctor(healthy, capsys)
    finally:
        healthy.control("POST", "/netlab/firewall", {**rule, "action": "allow"})
    assert code == 1
    line = row(out, "firewall/proxy")
    assert "  FAIL  " in line and "api-sse.cisco.com: silently dropped" in line
    assert "Open HTTPS (in and out) port 443 on the firewall for api-sse.cisco.com" in remedies(out)


@pytest.mark.parametrize(("device", "version", "detail", "fix"), [
    ("esa1", "12.0.0-100", "on this ESA: needs 13.0 or later", "ESA needs AsyncOS 13.0 or later"),
    ("sma1", "12.0.0-100", "on this SMA: needs 12.5 or later", "an SMA needs AsyncOS 12.5 or later: upgrade the SMA"),
    # 12.5 would do for an SMA, not for a gateway: it integrates directly, as an ESA (PRE-5)
    ("gateway1", "12.5.0-100", "on this content security gateway: needs 13.0 or later",
     "an email gateway integrated directly needs AsyncOS 13.0 or later"),
])
def test_a_version_below_the_products_minimum_is_pre5(healthy: DoctorLab, capsys: pytest.CaptureFixture[str],
                                                      restore_version: SetVersion, device: str, version: str,
                                                      detail: str, fix: str) -> None:
    restore_version(device, version)
    code, out, _, _ = doctor(healthy, capsys)
    assert code == 1
    line = row(out, "version", device)
    assert "  FAIL  " in line and f"AsyncOS {version} {detail}" in line
    assert fix in remedy(out, "version", device)
    if device == "esa1":
        assert "CES or SMA-managed ESAs integrate through the SMA" in remedy(out, "version", device)
    others = [d for d in DEVICES if d != device]
    assert all("  pass  " in row(out, "version", d) for d in others), out


@pytest.mark.parametrize(("device", "version", "status"), [
    ("sma1", "12.5.0-100", "pass"),  # the SMA's minimum itself; the 13.0.0-314 build is the ESA module's
    ("esa1", "13.0.0-100", "warn"),  # 13.0, below the ESA module quick start's 13.0.0-314
    ("gateway1", "13.0.0-100", "warn"),  # the gateway uses the ESA module too (seed 001)
])
def test_the_minimum_versions_themselves(healthy: DoctorLab, capsys: pytest.CaptureFixture[str],
                                         restore_version: SetVersion, device: str, version: str, status: str) -> None:
    restore_version(device, version)
    code, out, _, _ = doctor(healthy, capsys)
    assert code == 0, out
    assert f"  {status}  " in row(out, "version", device), out


@pytest.mark.parametrize("device", DEVICES)
def test_an_uncommitted_enable_is_ts3(fresh: DoctorLab, capsys: pytest.CaptureFixture[str], device: str) -> None:
    fresh[device].gui.edit_cloud_settings(enable=True)  # Submit, no Commit Changes (ENA-5, ENA-8)
    code, out, _, state = doctor(fresh, capsys)
    # still pending after the doctor: it committed nothing
    assert state["appliances"][device]["pending"] is not None
    assert code == 1
    line = row(out, "enable committed", device)
    assert "  FAIL  " in line and f"{FEATURE[device]}: Disabled (committed) and uncommitted changes are pending" in line
    assert f"TS-3/ENA-5: Commit the change that enables {FEATURE[device]} (" in remedy(out, "enable committed", device)
    assert "  FAIL  " in row(out, "registration", device) and "  skip  " in row(out, "module", device)


@pytest.mark.parametrize("device", DEVICES)
def test_a_disabled_appliance_gets_its_products_enabling_procedure(fresh: DoctorLab,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    device: str) -> None:
    code, out, _, _ = doctor(fresh, capsys)
    assert code == 1
    assert f"{FEATURE[device]}: Disabled" in row(out, "enable committed", device)
    assert ENABLE[device] in remedy(out, "enable committed", device)
    assert ENABLE[device] in remedy(out, "registration", device)  # ENA-1: nothing to register before that
    if device.startswith("gateway"):  # the gateways' procedure, not the ESA's (ENA-8)
        assert "ENA-8" in row(out, "enable committed", device)
        assert "Edit Settings" not in remedy(out, "enable committed", device)


def test_a_securex_era_sma_is_told_edit_global_settings(fresh: DoctorLab, capsys: pytest.CaptureFixture[str],
                                                         restore_version: SetVersion) -> None:
    restore_version("sma1", "14.0.0-100")  # seed 000: the SecureX-era SMA page says "Edit Global Settings"
    code, out, _, _ = doctor(fresh, capsys)
    assert code == 1
    assert "  pass  " in row(out, "version", "sma1")
    assert "Edit Global Settings > check Enable > Submit > Commit Changes" in remedy(out, "enable committed", "sma1")


@pytest.mark.parametrize(("device", "server"), [("esa1", "Threat Response Server"),
                                                ("sma1", "Threat Response Server"),
                                                ("gateway1", "SecureX Server"), ("gateway2", "Cisco Secure Server")])
def test_a_registration_in_another_region_is_absent_from_the_regions_sse(
        fresh: DoctorLab, capsys: pytest.CaptureFixture[str], device: str, server: str) -> None:
    fresh.enable(device, server="EUROPE")
    fresh.register(device, region="eu")  # an EU token: the appliance registers, but with the EU SSE
    code, out, _, state = doctor(fresh, capsys)
    assert code == 1
    assert state["devices"]["nam"] == [] and [d["name"] for d in state["devices"]["eu"]] == [fresh[device].hostname]
    line = row(out, "registration", device)
    assert "  FAIL  " in line and "absent from the nam SSE device list" in line
    assert "the appliance's server is EUROPE (api.eu.sse.itd.cisco.com)" in out
    fix = remedy(out, "registration", device)
    assert f"deregister it, choose the AMERICAS {server}, commit" in fix  # REG-6, the page's own words
    assert "Generate the token in the SSE of the appliance's region (NAM: admin.sse.itd.cisco.com" in fix
    assert "tokens expire" in fix


@pytest.mark.parametrize(("device", "fix"), [
    ("esa1", "send a test mail through the appliance"),
    ("sma1", "send a test mail through an ESA this SMA manages"),  # VER-7: the SMA centralises tracking
    ("gateway1", "send a test mail through the email gateway"),
])
def test_no_test_mail_is_a_warning_with_the_products_remedy(fresh: DoctorLab, capsys: pytest.CaptureFixture[str],
                                                             device: str, fix: str) -> None:
    fresh.enable(device)
    fresh.register(device)
    fresh.add_module(device)
    code, out, _, _ = doctor(fresh, capsys)
    assert "  pass  " in row(out, "module", device)
    line = row(out, "investigation", device)
    assert "  warn  " in line and "no test mail found" in line
    assert fix in remedy(out, "investigation", device)
    assert code == 1  # only because the other appliances are not enabled


def test_an_sma_with_only_the_sma_web_module_has_no_email_module(fresh: DoctorLab,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fresh.enable("sma1")
    fresh.register("sma1")
    fresh.add_module("sma1")  # SMA Email first: SMA Web needs it (VER-8)
    device = fresh.sse["nam"].find_device(fresh["sma1"].hostname)
    assert device is not None
    web = next(t for t in fresh.ctr.module_types() if t["title"] == "SMA Web")
    fresh.ctr.create_module_instance("sma1 SMA Web", web["id"], {"registered_device": device["id"]})
    for instance in fresh.ctr.module_instances():
        if instance["module_type_id"] != web["id"]:
            fresh.ctr.delete_module_instance(instance["id"])
    code, out, _, _ = doctor(fresh, capsys)
    assert code == 1
    line = row(out, "module", "sma1")
    assert "  FAIL  " in line and "no email module has Registered Device" in line
    assert "add the SMA Email module" in remedy(out, "module", "sma1")
    assert "  skip  " in row(out, "investigation", "sma1")


def test_without_an_sse_admin_api_the_tenant_check_is_a_warning(healthy: DoctorLab,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # A real tenant: only a hand-made token in the testbed, no admin API to read Cloud Services from.
    data = yaml.safe_load(healthy.path.read_text())
    data["cloud"]["sse"]["nam"] = {"token": "0" * 32}
    token_only = healthy.path.with_name("token-only.yaml")
    token_only.write_text(yaml.safe_dump(data))
    code, out, _, _ = doctor(healthy, capsys, token_only)
    assert code == 0, out  # a warning is shown, not counted
    assert "  warn  " in row(out, "SSE Threat Response") and "not checkable" in row(out, "SSE Threat Response")
    assert "  pass  " in row(out, "registration")  # found through Threat Response's device list (VER-2)
    assert "  pass  " in row(out, "investigation")


def test_no_secret_reaches_the_output(healthy: DoctorLab, capsys: pytest.CaptureFixture[str]) -> None:
    healthy.sse["nam"].set_cloud_service(False)  # failures print the most detail
    try:
        _, out, err, _ = doctor(healthy, capsys)
    finally:
        healthy.sse["nam"].set_cloud_service(True)
    tb = healthy.tb
    secrets = [d.password for d in tb.devices.values()]
    secrets += [s.api_key for s in tb.cloud.sse.values() if s.api_key]
    secrets += [c.client_secret for c in tb.cloud.ctr.values()]
    for secret in secrets:
        assert secret not in out and secret not in err


def test_an_unusable_testbed_exits_2(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("devices: {}\n")
    assert cli.main(["doctor", "--testbed", str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err
