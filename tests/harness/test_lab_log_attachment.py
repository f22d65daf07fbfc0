"""A failing scenario's Allure result carries what the lab logged while it ran; a passing one does not.

The same mechanism serves every backend (``Backend.log_mark``/``logs``): the simulator process's log
here, the container's output for ``--backend docker`` (tests/harness/backends).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FAILING = "enabling_threat_response_in_the_gui_step_by_step"
PASSING = "the_initial_cloud_service_settings_page_shows_threat_response_disabled"
REFUSED = re.compile(r"esa\d+: commit refused \(fault refuse_commit\)")  # whichever ESA was leased


def run_with_backend(backend: str, allure: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider",
         "-p", "tests.support.faulty_backend", "--backend", backend, "--alluredir", str(allure),
         "-k", f"{FAILING} or {PASSING}"],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def lab_log_attachments(allure: Path) -> dict[str, list[str]]:
    """Scenario status -> the texts of its 'lab log' attachments."""
    found: dict[str, list[str]] = {}
    for path in allure.glob("*-result.json"):
        result: dict[str, Any] = json.loads(path.read_text())
        texts = [(allure / a["source"]).read_text() for a in result.get("attachments", [])
                 if a["name"].endswith("lab log")]
        found.setdefault(f"{result['status']}:{result['name']}", []).extend(texts)
    return found


def assert_only_the_failure_has_the_log(done: subprocess.CompletedProcess[str], allure: Path) -> None:
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    assert "1 failed, 1 passed" in done.stdout, done.stdout[-2000:]
    found = lab_log_attachments(allure)
    failed = [texts for key, texts in found.items() if key.startswith("failed:")]
    passed = [texts for key, texts in found.items() if key.startswith("passed:")]
    assert len(failed) == 1 and len(passed) == 1, found.keys()
    assert any(REFUSED.search(text) for text in failed[0]), failed[0]
    assert passed[0] == [], "a passing scenario got a lab log attachment"


def test_a_failing_scenario_carries_the_sim_labs_log(tmp_path: Path) -> None:
    allure = tmp_path / "allure"
    assert_only_the_failure_has_the_log(run_with_backend("faulty-sim", allure), allure)
