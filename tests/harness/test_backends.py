"""Backends: the registry (entry points + programmatic), the lab backend, and the sim backend's life
cycle (start in its own process group, wait for the testbed and health, stop with SIGINT then SIGKILL)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.backends import (
    Backend,
    BackendError,
    BackendOptions,
    available_backends,
    get_backend,
    register_backend,
    unregister_backend,
)
from harness.backends.gear import GearBackend
from harness.backends.sim import SimBackend
from harness.testbed import Testbed, TestbedError

FAKE_LAB = Path(__file__).with_name("fake_lab.py")


class ScriptedSim(SimBackend):
    """The sim backend running tests/harness/fake_lab.py in a given mode instead of the real lab."""

    mode = "ok"

    def command(self, testbed_out: Path, lab_dir: Path) -> list[str]:
        return [sys.executable, str(FAKE_LAB), self.mode, "--testbed-out", str(testbed_out), "--dir", str(lab_dir)]


def scripted(mode: str, tmp_path: Path, **options: Any) -> ScriptedSim:
    backend = ScriptedSim(BackendOptions(reports_dir=tmp_path / "reports", **options))
    backend.mode = mode
    return backend


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


# ---- registry -------------------------------------------------------------------------------------------
def test_installed_backends_come_from_entry_points() -> None:
    assert {"sim", "lab"} <= set(available_backends())
    assert get_backend("sim") is SimBackend and get_backend("lab") is GearBackend


def test_unknown_backend_names_the_available_ones() -> None:
    with pytest.raises(BackendError, match=r"unknown backend 'vmware' \(available: .*lab.*sim"):
        get_backend("vmware")


def test_programmatic_registration() -> None:
    class Fake(Backend):
        name = "fake-unit"

        def provision(self) -> Testbed:
            raise NotImplementedError

    register_backend("fake-unit", Fake)
    try:
        assert get_backend("fake-unit") is Fake and "fake-unit" in available_backends()
    finally:
        unregister_backend("fake-unit")
    assert "fake-unit" not in available_backends()
    with pytest.raises(TypeError):
        register_backend("bad", object)  # type: ignore[arg-type]


# ---- lab ------------------------------------------------------------------------------------------------
def test_lab_backend_loads_the_testbed(tb_file: Any) -> None:
    backend = GearBackend(BackendOptions(testbed_path=tb_file()))
    assert backend.provision().devices["esa1"].kind == "esa"
    backend.teardown()
    with pytest.raises(BackendError, match="needs a testbed"):
        GearBackend(BackendOptions()).provision()
    with pytest.raises(TestbedError, match="no such file"):
        GearBackend(BackendOptions(testbed_path=Path("/nonexistent.yaml"))).provision()


# ---- sim: life cycle against a scripted stand-in ---------------------------------------------------------
def test_sim_starts_in_its_own_process_group_and_stops_cleanly(tmp_path: Path) -> None:
    backend = scripted("ok", tmp_path)
    started = time.monotonic()
    testbed = backend.provision()
    assert time.monotonic() - started < 10
    assert testbed.is_simulator and testbed.name == "fake-sim"
    assert backend.provision() is testbed  # once per session
    process = backend.process
    assert process is not None and os.getpgid(process.pid) == process.pid  # Ctrl-C in the terminal skips it
    workdir = backend.workdir
    backend.teardown()
    assert process.returncode == 0 and not alive(process.pid)
    assert workdir is not None and not workdir.exists()
    log = (tmp_path / "reports" / "sim-lab.log").read_text()
    assert "fake lab ok" in log and "fake lab stopped" in log  # SIGINT, handled by the lab
    backend.teardown()  # twice is harmless


@pytest.mark.parametrize("from_thread", [False, True], ids=["main-thread", "other-thread"])
def test_a_harness_started_with_sigint_ignored_still_stops_its_lab_with_sigint(tmp_path: Path,
                                                                              from_thread: bool) -> None:
    # `cmd &` in a non-interactive shell (and some CI runners) start pytest with SIGINT ignored; exec keeps
    # that for the lab, which then heard no stop and was killed after the bounded wait.
    backend = scripted("ok", tmp_path, stop_timeout=30.0)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if from_thread:
            worker = threading.Thread(target=backend.provision)
            worker.start()
            worker.join(timeout=60)
        else:
            backend.provision()
    finally:
        signal.signal(signal.SIGINT, previous)
    process = backend.process
    assert process is not None
    backend.teardown()
    assert process.returncode == 0, "the lab did not stop on SIGINT: it was killed after the bounded wait"
    assert "fake lab stopped" in (tmp_path / "reports" / "sim-lab.log").read_text()


def test_sim_that_exits_early_fails_with_its_stderr(tmp_path: Path) -> None:
    backend = scripted("exit", tmp_path)
    with pytest.raises(BackendError) as info:
        backend.provision()
    message = str(info.value)
    assert "exited with code 3 before writing its testbed" in message
    assert "No module named 'virtual_appliances'" in message and "sim-lab.log" in message
    assert backend.process is None


def test_sim_that_never_gets_ready_fails_at_the_deadline(tmp_path: Path) -> None:
    backend = scripted("hang", tmp_path, start_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"did not write its testbed within 1 s"):
        backend.provision()
    assert 1.0 <= time.monotonic() - started < 8


def test_sim_whose_health_never_says_ok(tmp_path: Path) -> None:
    backend = scripted("unhealthy", tmp_path, start_timeout=1.5)
    with pytest.raises(BackendError, match=r"/_sim/health did not answer status ok within 1.5 s \(last: HTTP 503"):
        backend.provision()


def test_sim_writing_a_bad_testbed_is_reported(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"cannot use:\n.*devices.esa1.kind: must be one of"):
        scripted("bad-testbed", tmp_path).provision()


def test_sim_ignoring_sigint_is_killed(tmp_path: Path) -> None:
    backend = scripted("stubborn", tmp_path, stop_timeout=0.5)
    backend.provision()
    process = backend.process
    assert process is not None
    started = time.monotonic()
    backend.teardown()
    assert time.monotonic() - started < 8 and process.returncode == -9


def test_sim_command_runs_the_lab_module(tmp_path: Path) -> None:
    backend = SimBackend(BackendOptions(appliances=3, extra_args=("--speed", "100")))
    assert backend.command(tmp_path / "tb.yaml", tmp_path / "lab") == [
        sys.executable, "-m", "virtual_appliances.lab", "--appliances", "3", "--sma=1", "--gateway=1", "--testbed-out",
        str(tmp_path / "tb.yaml"), "--dir", str(tmp_path / "lab"), "--speed", "100"]
    assert backend.describe() == "sim (3 esa, 1 sma, 1 gateway)"
    only_esas = SimBackend(BackendOptions(appliances=1, sma=0, gateway=0))
    assert "--sma=1" not in only_esas.command(tmp_path / "tb.yaml", tmp_path / "lab")
    assert only_esas.describe() == "sim (1 esa)"


def test_harness_never_imports_the_simulators() -> None:
    harness = Path(__file__).resolve().parents[2] / "harness"
    offenders = [str(p.relative_to(harness)) for p in harness.rglob("*.py")
                 if "import virtual_appliances" in p.read_text() or "from virtual_appliances" in p.read_text()]
    assert offenders == []
