"""`pytest -n 2` over the feature suite: one simulator lab for the whole run (the xdist controller runs it),
scenarios lease appliances so two workers never drive the same one, and one merged Allure result set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 600
SUBSET = "tokens or enabling or firewall"  # about 45 scenarios, lab-wide ones (firewall) included


def test_two_workers_share_one_lab_and_write_one_report(tmp_path: Path) -> None:
    results, reports = tmp_path / "allure", tmp_path / "reports"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-n", "2", "-q", "-p", "no:cacheprovider", "--alluredir",
         str(results), "-o", f"ctrlab_reports_dir={reports}", "--sim-appliances", "3", "-k", SUBSET,
         f"--junitxml={tmp_path / 'junit.xml'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 20 and "failed" not in summary, summary

    # One lab for the run: the controller's log, no per-worker lab (nor log).
    logs = sorted(p.name for p in reports.glob("sim-lab*.log"))
    assert logs == ["sim-lab.log"], logs
    assert (reports / "sim-lab.log").read_text().count("ctrlab lab ready") == 1

    # One merged report: a result per scenario, environment and categories written once, by the controller.
    found = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert len(found) == passed, (len(found), summary)
    assert len({r["historyId"] for r in found}) == passed  # no scenario (outline example) reported twice
    env = (results / "environment.properties").read_text()
    assert "shared by the xdist workers" in env and "appliance.esa3" in env, env
    assert (results / "categories.json").is_file()


DEVICES = {name: SimpleNamespace(kind=kind, hostname=f"{name}.example.com")
           for name, kind in (("esa1", "esa"), ("esa2", "esa"), ("sma1", "sma"))}


def test_workers_lease_different_appliances(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import leasing

    gw0 = leasing.Leases(DEVICES, lease_dir=tmp_path, worker_index=0)  # type: ignore[arg-type]
    gw1 = leasing.Leases(DEVICES, lease_dir=tmp_path, worker_index=0)  # type: ignore[arg-type]  # same preference
    monkeypatch.setattr(leasing, "LEASE_WAIT_S", 0.2)
    with gw0.lease("esa") as first, gw1.lease("esa") as second:
        assert first.name != second.name
        with pytest.raises(LookupError, match="no esa device became free"), gw1.lease("esa"):
            pass
    with gw0.lease("sma") as sma:  # released: the other worker may take it afterwards
        assert sma.name == "sma1"
    with gw1.lease("sma") as sma:
        assert sma.name == "sma1"
    # The whole lab: no other worker's scenario may start meanwhile.
    with gw0.lease("esa", lab_wide=True), pytest.raises(LookupError, match="the lab stayed busy"), gw1.lease("esa"):
        pass


def test_scenarios_that_change_the_whole_lab_are_recognised() -> None:
    from steps.text import changes_whole_lab

    assert changes_whole_lab(['the firewall drops HTTPS to "api-sse.cisco.com"'])
    assert changes_whole_lab(["Threat Response is disabled in SSE Cloud Services"])
    assert not changes_whole_lab(["the appliance starts with cloud services disabled",
                                  "I enable Threat Response with server AMERICAS through the CLI"])
