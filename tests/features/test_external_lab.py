"""`pytest --testbed PATH` runs the same scenarios on a lab started separately with `ctrlab sim up`,
the path a lab engineer takes with real gear (the lab backend reads the testbed; nothing is started)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.lab import PYTEST_WITH_LAB_BACKEND

ROOT = Path(__file__).resolve().parents[2]
READY_S = 60
RUN_TIMEOUT_S = 600


def test_the_suite_runs_on_a_lab_started_with_ctrlab_sim_up(tmp_path: Path) -> None:
    testbed = tmp_path / "tb.yaml"
    lab = subprocess.Popen([sys.executable, "-m", "harness.cli", "sim", "up", "--appliances", "2", "--sma", "1",
                            "--testbed-out", str(testbed), "--dir", str(tmp_path / "lab")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + READY_S
        while not testbed.exists():
            assert lab.poll() is None and time.monotonic() < deadline, "ctrlab sim up did not write its testbed"
            time.sleep(0.05)  # poll interval while the lab starts
        run = subprocess.run(
            [sys.executable, "-c", PYTEST_WITH_LAB_BACKEND, "features", "-q", "-p", "no:cacheprovider", "--testbed",
             str(testbed), "--alluredir", str(tmp_path / "allure"), "-k",
             "enabling or registration or verification or tokens"],
            cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
        assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
        assert " passed" in summary and "failed" not in summary, summary
        assert int(summary.split(" passed")[0].split()[-1]) >= 30, summary
        assert list((tmp_path / "allure").glob("*-result.json")), "no Allure results were written"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(lab.pid, signal.SIGINT)
        out, _ = lab.communicate(timeout=30)
    assert "ctrlab lab ready" in out and "ctrlab lab stopped" in out, out
    assert not testbed.exists(), "the lab removes its testbed when it stops"
