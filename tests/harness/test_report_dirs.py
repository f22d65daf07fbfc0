"""No run clobbers the features' report: ``pytest tests`` leaves ``reports/`` alone, ``--collect-only``, a
misspelt path and a collection error keep the previous results, a real run replaces them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 240
ONE_SCENARIO = "test_the_labs_appliance_meets_the_version_prerequisite_for_its_kind"


def pytest_run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**(env or os.environ), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")} if folder.exists() else {}


PROBE = """\
import os, subprocess, sys
from pathlib import Path

def test_a_feature_run_started_by_a_test_and_a_lab_write_elsewhere(lab):
    private = Path(os.environ["CTRLAB_REPORTS_DIR"])
    assert not private.resolve().is_relative_to(Path({root!r}) / "reports")
    done = subprocess.run([sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider",
                           "-k", {one!r}], cwd={root!r}, capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stdout[-2000:]
    assert list((private / "allure-results").glob("*-result.json")), sorted(private.rglob("*"))
    assert (private / "sim-lab.log").is_file()
"""


def test_running_ctrlab_tests_leaves_the_checkouts_reports_untouched(tmp_path: Path) -> None:
    """A test run (rootdir = the checkout, not a feature run) that starts a lab and a feature run."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE.format(root=str(ROOT), one=ONE_SCENARIO), encoding="utf-8")
    temp = tmp_path / "tmp"  # the run's own temporary folder: other runs on the machine make their own
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CTRLAB_REPORTS_DIR"}  # as a user's shell would be
    env["TMPDIR"] = str(temp)
    before = snapshot(ROOT / "reports")
    done = pytest_run("--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), str(probe), "-q", env=env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert snapshot(ROOT / "reports") == before, "pytest tests wrote into the checkout's reports/"
    leftovers = list(temp.glob("ctrlab-reports-*"))
    assert not leftovers, f"temporary reports folders left behind: {leftovers}"


@pytest.fixture
def previous_report(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    results = reports / "allure-results"
    results.mkdir(parents=True)
    (results / "previous-result.json").write_text("{}", encoding="utf-8")
    return reports


@pytest.mark.parametrize("args", [
    ["--collect-only", "-q"],
    ["-q", "features/no_such.feature"],
    ["-q", "-k", ONE_SCENARIO, "--no-such-option"],
], ids=["collect-only", "missing-feature-file", "usage-error"])
def test_a_run_that_runs_nothing_keeps_the_previous_results(args: list[str], previous_report: Path) -> None:
    done = pytest_run(*args, "-o", f"ctrlab_reports_dir={previous_report}")
    assert done.returncode != 1, (done.stdout + done.stderr)[-2000:]
    assert (previous_report / "allure-results" / "previous-result.json").exists(), (done.stdout + done.stderr)[-2000:]


def test_a_collection_error_keeps_the_previous_results(previous_report: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "features").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = features\n", encoding="utf-8")
    (project / "features" / "test_broken.py").write_text("import no_such_module\n", encoding="utf-8")
    done = pytest_run("-q", "-o", f"ctrlab_reports_dir={previous_report}", cwd=project)
    assert done.returncode == 2, (done.stdout + done.stderr)[-2000:]
    assert (previous_report / "allure-results" / "previous-result.json").exists()


def test_a_real_run_replaces_the_previous_results(previous_report: Path) -> None:
    done = pytest_run("-q", "-k", ONE_SCENARIO, "-o", f"ctrlab_reports_dir={previous_report}")
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    results = previous_report / "allure-results"
    assert not (results / "previous-result.json").exists()
    assert len(list(results.glob("*-result.json"))) == 1
    assert (results / "environment.properties").is_file()
