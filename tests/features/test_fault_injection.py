"""Breaking the simulator on purpose makes the matching scenarios fail, and say why.

Each test starts the bundled lab, injects one fault through its control plane (the way a lab
engineer would break a real lab), runs a few scenarios of ``features/`` in a subprocess against
that lab (``pytest features --testbed ... -k ...``), and checks the failure: it names the scenario's
requirement ID and quotes what the document expects. A control run without a fault passes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.lab import PYTEST_WITH_LAB_BACKEND, running_lab

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 300
CONTROL_TIMEOUT_S = 10


@pytest.fixture(scope="module")
def sim_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("lab")
    with running_lab(directory, "--appliances", "1") as testbed:
        yield directory / "testbed.yaml", testbed


def control(testbed: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    url = testbed["testbed"]["simulator"]["control_url"] + path
    response = requests.request(method, url, json=body, timeout=CONTROL_TIMEOUT_S)
    response.raise_for_status()
    return response.json() if response.content else None


def run_scenarios(testbed_path: Path, selection: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", PYTEST_WITH_LAB_BACKEND, "features", "-q", "-p", "no:cacheprovider", "--testbed",
           str(testbed_path), "-k", selection, "--tb=short", "-rf"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


def assert_fails_naming(result: subprocess.CompletedProcess[str], req_id: str, *quotes: str) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 1, f"expected failing scenarios (exit 1), got {result.returncode}:\n{out[-3000:]}"
    assert f"[{req_id}" in out or f", {req_id}" in out, f"the failure does not name {req_id}:\n{out[-3000:]}"
    assert "requirement(s):" in out and "document expects:" in out and "observed:" in out, out[-3000:]
    for quote in quotes:
        assert quote in out, f"the failure does not quote {quote!r}:\n{out[-3000:]}"


def test_control_run_without_a_fault_passes(sim_lab: tuple[Path, dict[str, Any]]) -> None:
    path, _ = sim_lab
    result = run_scenarios(path, "enabling_threat_response_in_the_gui_step_by_step or registering_in_the_gui_as")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "2 passed" in result.stdout


def test_a_commit_the_appliance_refuses_fails_the_enabling_scenario(sim_lab: tuple[Path, dict[str, Any]]) -> None:
    path, testbed = sim_lab
    control(testbed, "POST", "/_sim/appliances/esa1/faults", {"refuse_commit": True})
    try:
        result = run_scenarios(path, "enabling_threat_response_in_the_gui_step_by_step")
    finally:
        control(testbed, "DELETE", "/_sim/appliances/esa1/faults")
    assert_fails_naming(result, "ENA-2", "Success — Your changes have been committed.",
                        "ENA-4 [002 004 000]: after commit the page says")


def test_a_dropped_sse_fqdn_fails_registration_naming_the_requirement(sim_lab: tuple[Path, dict[str, Any]]) -> None:
    path, testbed = sim_lab
    control(testbed, "POST", "/_sim/netlab/firewall", {"fqdn": "api-sse.cisco.com", "port": 443, "action": "drop"})
    try:
        result = run_scenarios(path, "registering_in_the_gui_as_the_technote_shows_it")
    finally:
        control(testbed, "POST", "/_sim/netlab/firewall",
                {"fqdn": "api-sse.cisco.com", "port": 443, "action": "allow"})
    assert_fails_naming(result, "REG-2", "is successfully registered with the Cisco Threat Response portal.",
                        "REG-2 [002 004]: paste the token, click Register")


def test_an_sse_that_refuses_devices_fails_cli_registration(sim_lab: tuple[Path, dict[str, Any]]) -> None:
    path, testbed = sim_lab
    control(testbed, "POST", "/_sim/sse/nam/faults", {"device_api_status": 403})
    try:
        result = run_scenarios(path, "registering_in_the_cli_as_the_user_guide_transcript_shows_it")
    finally:
        control(testbed, "DELETE", "/_sim/sse/nam/faults")
    assert_fails_naming(result, "REG-3", "is successfully registered with the Cisco Threat Response portal.",
                        "REG-3 [003]: `cloudserviceconfig` while unregistered offers REGISTER and SETTRS")


def test_a_threat_response_outage_fails_the_module_scenario(sim_lab: tuple[Path, dict[str, Any]]) -> None:
    """Threat Response answers 503 to every API call: adding the appliance's module cannot work."""
    path, testbed = sim_lab
    control(testbed, "POST", "/_sim/ctr/nam/faults", {"api_status": 503})
    try:
        result = run_scenarios(path, "saving_the_module_with_the_documented_defaults")
    finally:
        control(testbed, "DELETE", "/_sim/ctr/nam/faults")
    assert_fails_naming(result, "VER-3", "Email Security Appliance")
