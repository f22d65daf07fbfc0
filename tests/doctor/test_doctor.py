"""``ctrlab doctor`` on a real bundled lab: a healthy integration passes (exit 0); each troubleshooting
cause, set up through the control plane or the documented procedures, is named with the documents'
remedy (exit 1); and the diagnosis changes nothing in the lab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import cli

from .conftest import DEVICE, DoctorLab


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
    assert lab.state() == before, "the doctor changed the lab"
    return code, out, err, before


def row(out: str, check: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"{DEVICE} ") and f"  {check}  " in line)


def remedies(out: str) -> str:
    return out.partition("\nremedies:\n")[2]


def test_a_healthy_integration_passes_every_check(healthy: DoctorLab, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err, _ = doctor(healthy, capsys)
    assert code == 0, out
    for check in ("version", "firewall/proxy", "SSE Threat Response", "enable committed", "registration",
                  "module", "investigation"):
        assert "  pass  " in row(out, check), out
    assert out.rstrip().endswith("7 checks: 0 failed, 0 warnings - all pass")
    # progress: each check announced when it starts and when it ends, on stderr
    assert "doctor: esa1: version ..." in err and "doctor: esa1: investigation: pass" in err
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


def test_a_version_below_13_0_is_pre5(healthy: DoctorLab, capsys: pytest.CaptureFixture[str]) -> None:
    original = healthy.control("GET", f"/appliances/{DEVICE}")["version"]
    healthy.control("POST", f"/appliances/{DEVICE}/spec", {"version": "12.0.0-100"})
    try:
        code, out, _, _ = doctor(healthy, capsys)
    finally:
        healthy.control("POST", f"/appliances/{DEVICE}/spec", {"version": original})
    assert code == 1
    assert "AsyncOS 12.0.0-100 on this ESA: needs 13.0 or later" in row(out, "version")
    assert "ESA needs AsyncOS 13.0 or later" in remedies(out)
    assert "CES or SMA-managed ESAs integrate through the SMA" in remedies(out)


def test_an_uncommitted_enable_is_ts3(fresh: DoctorLab, capsys: pytest.CaptureFixture[str]) -> None:
    fresh.gui.edit_cloud_settings(enable=True)  # Submit, no Commit Changes (ENA-5)
    code, out, _, state = doctor(fresh, capsys)
    assert state["appliance"]["pending"] is not None  # still pending after the doctor: it committed nothing
    assert code == 1
    line = row(out, "enable committed")
    assert "  FAIL  " in line and "uncommitted changes are pending" in line
    assert "Commit the change that enables Threat Response" in remedies(out)
    assert "  FAIL  " in row(out, "registration") and "  skip  " in row(out, "module")


def test_a_registration_in_another_region_is_absent_from_the_regions_sse(
        fresh: DoctorLab, capsys: pytest.CaptureFixture[str]) -> None:
    fresh.enable(server="EUROPE")
    fresh.register(region="eu")  # an EU token: the appliance registers, but with the EU SSE
    code, out, _, state = doctor(fresh, capsys)
    assert code == 1
    assert state["devices"]["nam"] == [] and len(state["devices"]["eu"]) == 1
    line = row(out, "registration")
    assert "  FAIL  " in line and "absent from the nam SSE device list" in line
    assert "the appliance's server is EUROPE (api.eu.sse.itd.cisco.com)" in out
    fixes = remedies(out)
    assert "Generate the token in the SSE of the appliance's region (NAM: admin.sse.itd.cisco.com" in fixes
    assert "tokens expire" in fixes


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
