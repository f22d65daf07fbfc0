"""`pytest -n 2` over the feature suite: each xdist worker runs a simulator lab of its own (nothing shared, nothing
locked) and the workers write one merged Allure result set; on a lab the workers share (`--testbed`) they lease
its appliances so two workers never drive the same one."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness.testbed import Device

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 600
SUBSET = "tokens or enabling or firewall"  # about 45 scenarios, lab-wide ones (firewall) included


def test_two_workers_each_run_their_own_lab_and_write_one_report(tmp_path: Path) -> None:
    results, reports, origins = tmp_path / "allure", tmp_path / "reports", tmp_path / "origins"
    origins.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-n", "2", "-q", "-p", "no:cacheprovider", "--alluredir",
         str(results), "-o", f"ctrlab_reports_dir={reports}", "--sim-appliances", "3", "-k", SUBSET,
         f"--junitxml={tmp_path / 'junit.xml'}", "-p", "tests.support.worker_origin"],
        cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        env={**os.environ, "CTRLAB_WORKER_ORIGIN": str(origins)})
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 20 and "failed" not in summary, summary

    assert "cannot be rewritten" not in run.stdout + run.stderr  # the forks carry no module pytest rewrites

    # Both workers are forks of the controller's fork server, and so is a lab per worker, each with its own log
    # (the server had nothing to say: no log of its own left).
    workers = [json.loads((origins / f"gw{n}.json").read_text()) for n in (0, 1)]
    assert all(w["fork_server"] and w["parent"] == w["fork_server"] for w in workers), workers
    logs = sorted(p.name for p in reports.glob("*.log"))
    assert logs == ["sim-lab-gw0.log", "sim-lab-gw1.log"], logs
    assert all((reports / log).read_text().count("ctrlab lab ready") == 1 for log in logs)
    assert all("forked from the fork server" in (reports / log).read_text() for log in logs)

    # One merged report: a result per scenario; environment and categories written.
    found = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert len(found) == passed, (len(found), summary)
    assert len({r["historyId"] for r in found}) == passed  # no scenario (outline example) reported twice
    env = (results / "environment.properties").read_text()
    assert "appliance.esa3" in env, env
    assert (results / "categories.json").is_file()


def _devices(*pairs: tuple[str, str]) -> dict[str, Device]:
    return {name: Device(kind=kind, model="C100V", version="13.0.0-392", hostname=f"{name}.example.com",
                         credentials={"default": {"username": "admin", "password": "x"}},
                         connections={"cli": {"host": "127.0.0.1"}})
            for name, kind in pairs}


def test_workers_on_a_shared_lab_lease_different_appliances(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import leasing

    devices = _devices(("esa1", "esa"), ("esa2", "esa"), ("sma1", "sma"))
    gw0 = leasing.Leases(devices, lease_dir=tmp_path, worker_index=0)
    gw1 = leasing.Leases(devices, lease_dir=tmp_path, worker_index=0)  # same preference: must still differ
    monkeypatch.setattr(leasing, "LEASE_WAIT_S", 0.2)
    with gw0.lease("esa") as first, gw1.lease("esa") as second:
        assert first.name != second.name
        with pytest.raises(LookupError, match="no esa device became free"), gw1.lease("esa"):
            pass
    with gw0.lease("sma") as sma:
        assert sma.name == "sma1"
    # A lab-wide scenario holds the whole lab: no other worker's scenario may start meanwhile.
    with gw0.lease("esa", lab_wide=True), pytest.raises(LookupError, match="the lab stayed busy"), gw1.lease("esa"):
        pass
    with gw1.lease("esa"):  # released
        pass


def test_a_lab_wide_scenario_gets_a_lab_another_worker_keeps_busy(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """flock lets a new shared holder in while an exclusive one waits. Another worker that starts its next
    scenario the moment one ends left the lab free only for microseconds, and a lab-wide scenario waited for
    such a moment (seconds on a kept lab). Now it waits for the running scenario only."""
    from harness import leasing

    devices = _devices(("esa1", "esa"), ("esa2", "esa"))
    other, wide = (leasing.Leases(devices, lease_dir=tmp_path, worker_index=i) for i in (1, 0))
    monkeypatch.setattr(leasing, "LEASE_WAIT_S", 10.0)
    holding, go, stop, has_lab, done = (threading.Event() for _ in range(5))
    started: list[int] = []

    def other_worker() -> None:  # back-to-back scenarios, each until the test says it ends
        while not stop.is_set():
            with other.lease("esa"):
                started.append(1)
                holding.set()
                go.wait(10)
                go.clear()

    def lab_wide_scenario() -> None:
        with wide.lease("esa", lab_wide=True):
            has_lab.set()
            done.wait(10)

    threads = [threading.Thread(target=other_worker), threading.Thread(target=lab_wide_scenario)]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    try:
        for _ in range(200):  # end the other worker's scenario; the next one starts at once
            holding.clear()
            go.set()
            if has_lab.wait(0.005):
                break
        assert has_lab.is_set(), f"the lab-wide scenario never got the lab over {len(started)} other scenarios"
        probe = (tmp_path / "lab.lock").open("a+", encoding="utf-8")
        with pytest.raises(BlockingIOError):  # held exclusively: no scenario of the other worker runs
            fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
        probe.close()
        assert not holding.is_set()
        done.set()
        assert holding.wait(10), "the other worker did not go on once the lab-wide scenario ended"
    finally:
        stop.set()
        done.set()
        go.set()
        for thread in threads:
            thread.join(10)


def test_scenarios_that_change_the_whole_lab_are_recognised() -> None:
    from steps.text import changes_whole_lab

    assert changes_whole_lab(['the firewall drops HTTPS to "api-sse.cisco.com"'])
    assert changes_whole_lab(["Threat Response is disabled in SSE Cloud Services"])
    assert not changes_whole_lab(["the appliance starts with cloud services disabled",
                                  "I enable Threat Response with server AMERICAS through the CLI"])


@pytest.mark.parametrize(("worker", "labs", "lab"), [
    ("gw0", 2, 0), ("gw1", 2, 1), ("gw2", 2, 0), ("gw5", 3, 2),  # gwI on lab I mod labs; gw2 replaces a crashed one
    (None, 2, 0), ("gw1", 1, 0), (None, 0, 0),  # the controller or a serial run: the first; one lab: it
])
def test_each_worker_takes_the_lab_its_number_names(worker: str | None, labs: int, lab: int) -> None:
    from types import SimpleNamespace

    from harness.session import worker_lab

    config = SimpleNamespace(workerinput={"workerid": worker}) if worker else SimpleNamespace()
    assert worker_lab(config, labs) == lab  # type: ignore[arg-type]
