"""An xdist worker's sim lab, forked by the lab server its controller started (harness/backends/lab_server.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.backends import BackendError, BackendOptions, lab_server
from harness.backends.sim import SimBackend
from harness.simcontrol import SimControl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def as_worker(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process plays an xdist worker; the variable is restored to its absence afterwards."""
    monkeypatch.delenv(lab_server.ENV, raising=False)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    return monkeypatch


def backend(tmp_path: Path, appliances: int = 1) -> SimBackend:
    return SimBackend(BackendOptions(appliances=appliances, reports_dir=tmp_path / "reports", project_root=ROOT,
                                     log_name="sim-lab-gw0.log", start_timeout=60))


def test_only_a_worker_of_the_controller_that_started_the_server_uses_it(as_worker: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    as_worker.setenv(lab_server.ENV, f"{os.getppid()}:{tmp_path / 'labs.sock'}")
    assert lab_server.server_address() == tmp_path / "labs.sock"
    as_worker.setenv(lab_server.ENV, f"{os.getpid()}:{tmp_path / 'labs.sock'}")  # not our parent's
    assert lab_server.server_address() is None
    as_worker.setenv(lab_server.ENV, f"{os.getppid()}:{tmp_path / 'labs.sock'}")
    as_worker.delenv("PYTEST_XDIST_WORKER")  # not a worker: a nested pytest, a tool it runs
    assert lab_server.server_address() is None
    as_worker.setenv(lab_server.ENV, "garbage")
    assert lab_server.server_address() is None


def test_a_worker_provisions_a_forked_lab_and_stops_it(as_worker: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server = lab_server.start_server(ROOT, tmp_path / "sim-lab-server.log")
    try:
        path = os.environ[lab_server.ENV].split(":", 1)[1]
        as_worker.setenv(lab_server.ENV, f"{os.getppid()}:{path}")  # what the controller's workers inherit
        lab = backend(tmp_path)
        try:
            testbed = lab.provision()
            assert isinstance(lab.process, lab_server.ForkedLab)
            assert lab.process.pid != server.process.pid and lab.process.poll() is None
            assert testbed.simulator is not None
            control = SimControl(testbed.simulator.control_url)
            try:
                assert control.health()["appliances"] == 3  # one ESA, the SMA and the gateway
            finally:
                control.close()
        finally:
            process = lab.process
            lab.teardown()
        assert isinstance(process, lab_server.ForkedLab) and process.returncode == 0
        log = lab.log_path.read_text()
        assert "forked from the lab server" in log and "ctrlab lab stopped" in log
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert not (tmp_path / "sim-lab-server.log").exists()  # it had nothing to say: no empty file left
    assert not server.directory.exists()


def test_a_worker_that_cannot_reach_the_server_starts_its_lab_itself(as_worker: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    as_worker.setenv(lab_server.ENV, f"{os.getppid()}:{tmp_path / 'gone.sock'}")
    lab = backend(tmp_path)
    try:
        lab.provision()
        assert isinstance(lab.process, subprocess.Popen)
    finally:
        lab.teardown()


def test_a_forked_lab_that_fails_is_reported_with_its_log(as_worker: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server = lab_server.start_server(ROOT, tmp_path / "sim-lab-server.log")
    try:
        as_worker.setenv(lab_server.ENV, f"{os.getppid()}:{os.environ[lab_server.ENV].split(':', 1)[1]}")
        lab = backend(tmp_path, appliances=0)  # the lab refuses it
        with pytest.raises(BackendError) as failed:
            lab.provision()
        message = str(failed.value)
        assert "exited with code 2 before writing its testbed" in message
        assert "--appliances must be between 1 and 500" in message  # the lab's own words, from its log
    finally:
        server.stop()
