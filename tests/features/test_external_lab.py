"""`pytest --testbed PATH` runs the same scenarios on a lab started separately with `ctrlab sim up`,
the path a lab engineer takes with real gear (the lab backend reads the testbed; nothing is started);
with `-n N` and a `--testbed` per lab, each worker runs on a lab of its own."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY_S = 60
RUN_TIMEOUT_S = 600


@contextlib.contextmanager
def kept_lab(tmp_path: Path, name: str) -> Iterator[tuple[Path, list[str]]]:
    """A lab started with `ctrlab sim up` (2 ESAs, an SMA) for the block: its testbed, and its output once stopped."""
    testbed, output, log = tmp_path / f"{name}.yaml", [], tmp_path / f"{name}.log"
    # Its output goes to a file: a pipe read only at the end fills up (64 KiB) and the lab blocks writing its log.
    with log.open("wb") as sink:
        lab = subprocess.Popen([sys.executable, "-m", "harness.cli", "sim", "up", "--appliances", "2", "--sma", "1",
                                "--testbed-out", str(testbed), "--dir", str(tmp_path / name)],
                               stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_S
        while not testbed.exists():
            assert lab.poll() is None and time.monotonic() < deadline, "ctrlab sim up did not write its testbed"
            time.sleep(0.05)  # poll interval while the lab starts
        yield testbed, output
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(lab.pid, signal.SIGINT)
        lab.wait(timeout=30)
        output.append(log.read_text(encoding="utf-8", errors="replace"))
    assert "ctrlab lab ready" in output[0] and "ctrlab lab stopped" in output[0], output[0]
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
    with kept_lab(tmp_path, "lab") as (testbed, _):
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
    with kept_lab(tmp_path, "a") as (lab_a, out_a), kept_lab(tmp_path, "b") as (lab_b, out_b):
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
    for name, out in (("a", out_a), ("b", out_b)):  # each lab's appliances were driven
        assert out[0].count(": committed (enabled") >= 3, (name, out[0][-3000:])


def test_several_testbeds_without_xdist_is_refused_naming_the_option(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider",
                          "--testbed", str(tmp_path / "a.yaml"), "--testbed", str(tmp_path / "b.yaml")],
                         cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert run.returncode == 4, run.stdout + run.stderr
    assert "--testbed was given 2 times" in run.stderr and "-n N" in run.stderr, run.stderr
