"""`pytest --testbed PATH` runs the same scenarios on a lab started separately with `ctrlab sim up`,
the path a lab engineer takes with real gear (the lab backend reads the testbed; nothing is started);
with `-n N` and a `--testbed` per lab, each worker runs on a lab of its own."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.support.running_lab import started_lab

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 600
SIM_UP = [sys.executable, "-m", "harness.cli", "sim", "up", "--appliances", "2", "--sma", "1"]  # no gateway


@contextlib.contextmanager
def kept_lab(directory: Path) -> Iterator[Path]:
    """A lab started with `ctrlab sim up` for the block (its log: ``directory/lab.log``); its testbed. Stopped, it
    has said so in its log and removed its testbed."""
    directory.mkdir()
    with started_lab(directory, SIM_UP) as (_, testbed):
        yield testbed
    log = (directory / "lab.log").read_text(encoding="utf-8", errors="replace")
    assert "ctrlab lab ready" in log and "ctrlab lab stopped" in log, log[-3000:]
    assert not testbed.exists(), "the lab removes its testbed when it stops"


def _suite(*args: str) -> tuple[str, int]:
    """The feature suite with ``args``, which must pass: its output, and how many scenarios passed."""
    run = subprocess.run([sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider", *args],
                         cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert " passed" in summary and "failed" not in summary, summary
    return run.stdout, int(summary.split(" passed")[0].split()[-1])


def test_the_suite_runs_on_a_lab_started_with_ctrlab_sim_up(tmp_path: Path) -> None:
    with kept_lab(tmp_path / "lab") as testbed:
        out, passed = _suite("--testbed", str(testbed), "--alluredir", str(tmp_path / "allure"), "-rs",
                             "-k", "enabling or registration or verification or tokens")
        assert passed >= 30
        assert list((tmp_path / "allure").glob("*-result.json")), "no Allure results were written"
        # This lab has no gateway: those scenarios skip, listed at their line in the feature file.
        skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
        assert skips and all("features/enabling.feature:" in line for line in skips), skips
        assert any("the testbed has no gateway device" in line for line in skips), skips


def test_with_a_testbed_per_lab_each_xdist_worker_runs_on_its_own_lab(tmp_path: Path) -> None:
    """`pytest -n 2 --testbed a --testbed b`: worker gw0 on lab a, gw1 on lab b; one report names both labs."""
    results = tmp_path / "allure"
    with kept_lab(tmp_path / "a") as lab_a, kept_lab(tmp_path / "b") as lab_b:
        _, passed = _suite("-n", "2", "--testbed", str(lab_a), "--testbed", str(lab_b), "--alluredir", str(results),
                           "-k", "enabling or tokens")
        assert passed >= 20
        env = (results / "environment.properties").read_text()
        assert f"lab1.testbed=ctrlab-sim ({lab_a})" in env and f"lab2.testbed=ctrlab-sim ({lab_b})" in env, env
        assert "lab2.appliance.sma1=" in env, env
        statuses = [json.loads(r.read_text())["status"] for r in results.glob("*-result.json")]
        assert statuses.count("passed") == passed, statuses  # both workers' results, in one folder
        # One lab named twice would let two workers drive one appliance unleased: refused before any scenario.
        twice = subprocess.run([sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider", "-n", "2",
                                "--testbed", str(lab_a), "--testbed", str(lab_a)],
                               cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        assert twice.returncode == 4 and "reach the same appliance" in twice.stderr, twice.stdout + twice.stderr
    for name in ("a", "b"):  # each lab's appliances were driven
        log = (tmp_path / name / "lab.log").read_text(encoding="utf-8", errors="replace")
        assert log.count(": committed (enabled") >= 3, (name, log[-3000:])


def test_several_testbeds_without_xdist_is_refused_naming_the_option(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider",
                          "--testbed", str(tmp_path / "a.yaml"), "--testbed", str(tmp_path / "b.yaml")],
                         cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert run.returncode == 4, run.stdout + run.stderr
    assert "--testbed was given 2 times" in run.stderr and "-n N" in run.stderr, run.stderr
