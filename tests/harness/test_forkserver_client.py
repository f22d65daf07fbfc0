"""The harness side of the fork server (harness/forkserver): an xdist worker's lab, and the worker itself."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness import forkserver
from harness.backends import BackendError, BackendOptions
from harness.backends.sim import SimBackend
from harness.simcontrol import SimControl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def as_worker(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process plays an xdist worker; the variable is restored to its absence afterwards."""
    monkeypatch.delenv(forkserver.ENV, raising=False)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    return monkeypatch


def backend(tmp_path: Path, appliances: int = 1) -> SimBackend:
    return SimBackend(BackendOptions(appliances=appliances, reports_dir=tmp_path / "reports", project_root=ROOT,
                                     log_name="sim-lab-gw0.log", start_timeout=60))


def test_only_a_worker_of_the_controller_that_started_the_server_uses_it(as_worker: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    sock = tmp_path / "fork.sock"
    me, parent = os.getpid(), os.getppid()  # a process is never its own parent
    as_worker.setenv(forkserver.ENV, f"{parent}:{me}:{sock}")  # started by the controller
    assert forkserver.server_address() == sock
    as_worker.setenv(forkserver.ENV, f"{me}:{parent}:{sock}")  # forked by the server
    assert forkserver.server_address() == sock
    as_worker.setenv(forkserver.ENV, f"{me}:{me}:{sock}")  # neither is our parent
    assert forkserver.server_address() is None
    as_worker.setenv(forkserver.ENV, f"{parent}:{me}:{sock}")
    as_worker.delenv("PYTEST_XDIST_WORKER")  # not a worker: a nested pytest, a tool it runs
    assert forkserver.server_address() is None
    as_worker.setenv(forkserver.ENV, "garbage")
    assert forkserver.server_address() is None


def test_a_worker_provisions_a_forked_lab_and_stops_it(as_worker: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server = forkserver.start_server(ROOT, tmp_path / "fork-server.log")
    try:
        path = os.environ[forkserver.ENV].split(":", 2)[2]
        as_worker.setenv(forkserver.ENV, f"{os.getppid()}:1:{path}")  # what the controller's workers inherit
        lab = backend(tmp_path)
        try:
            testbed = lab.provision()
            assert isinstance(lab.process, forkserver.ForkedLab)
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
        assert isinstance(process, forkserver.ForkedLab) and process.returncode == 0
        log = lab.log_path.read_text()
        assert "forked from the fork server" in log and "ctrlab lab stopped" in log
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert not (tmp_path / "fork-server.log").exists()  # it had nothing to say: no empty file left
    assert not server.directory.exists()


def test_a_worker_that_cannot_reach_the_server_starts_its_lab_itself(as_worker: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    as_worker.setenv(forkserver.ENV, f"{os.getppid()}:1:{tmp_path / 'gone.sock'}")
    lab = backend(tmp_path)
    try:
        lab.provision()
        assert isinstance(lab.process, subprocess.Popen)
    finally:
        lab.teardown()


def test_a_forked_lab_that_fails_is_reported_with_its_log(as_worker: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server = forkserver.start_server(ROOT, tmp_path / "fork-server.log")
    try:
        as_worker.setenv(forkserver.ENV, f"{os.getppid()}:1:{os.environ[forkserver.ENV].split(':', 2)[2]}")
        lab = backend(tmp_path, appliances=0)  # the lab refuses it
        with pytest.raises(BackendError) as failed:
            lab.provision()
        message = str(failed.value)
        assert "exited with code 2 before writing its testbed" in message
        assert "--appliances must be between 1 and 500" in message  # the lab's own words, from its log
    finally:
        server.stop()


WORKER = "import os, sys; print(os.getppid(), 'pytest' in sys.modules, sys.argv[1:]); sys.exit(5)"


def forked_python(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python ARGV`` as xdist starts a worker once route_workers made forked_python.py its python."""
    return subprocess.Popen([sys.executable, str(forkserver.FORKED_PYTHON), *argv], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, text=True, env=env)


def test_a_worker_python_is_a_fork_of_the_server_with_its_modules_imported(tmp_path: Path) -> None:
    server = forkserver.start_server(ROOT, tmp_path / "fork-server.log")
    try:
        child = forked_python("-u", "-c", WORKER, "a", "b")
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 5  # its exit code, passed on
        assert out.split() == [str(server.process.pid), "True", "['a',", "'b']"]
        child = forked_python("-u", "-c", "import signal, sys\ntry:\n    print('ready', flush=True)\n"
                              "    signal.pause()\nexcept KeyboardInterrupt:\n    sys.exit(7)")
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        child.send_signal(signal.SIGINT)  # the terminal's Ctrl-C reaches the stand-in: the worker gets it
        assert child.wait(timeout=60) == 7
        child.stdout.close()
    finally:
        server.stop()


def test_a_worker_python_without_the_server_is_python(tmp_path: Path) -> None:
    env = {**os.environ, forkserver.ENV: f"{os.getpid()}:1:{tmp_path / 'gone.sock'}"}
    child = forked_python("-u", "-c", WORKER, "a", env=env)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 5
    assert out.split() == [str(os.getpid()), "False", "['a']"]  # the real interpreter, in the stand-in's place


def test_route_workers_only_the_plain_local_workers_of_the_controller_that_started_the_server(
        monkeypatch: pytest.MonkeyPatch) -> None:
    execnet = pytest.importorskip("execnet")
    specs = [execnet.XSpec(spec) for spec in ("popen", "popen//python=python3.12", "ssh=lab//python=python3")]
    monkeypatch.delenv(forkserver.ENV, raising=False)
    forkserver.route_workers(specs)
    assert [spec.python for spec in specs] == [None, "python3.12", "python3"]
    monkeypatch.setenv(forkserver.ENV, f"{os.getpid()}:1:/nowhere/fork.sock")
    forkserver.route_workers(specs)
    assert specs[0].python is not None and specs[0].python.endswith("forked_python.py")
    assert [spec.python for spec in specs[1:]] == ["python3.12", "python3"]


def test_the_preloaded_libraries_are_what_a_worker_imports_and_pytest_does_not_rewrite() -> None:
    plugins = {ep.value.split(":")[0].split(".")[0] for ep in importlib.metadata.entry_points(group="pytest11")}
    assert not {name.split(".")[0] for name in forkserver.WORKER_LIBRARIES} & plugins  # pytest would warn
    # What a worker imports from third parties (as the conftest and the plugins do), against what the server has.
    probe = ("import json, sys, pytest, harness.plugin, steps, pytest_bdd, allure_pytest_bdd\n"
             "from steps import STEP_MODULES\n"
             "for name in ('steps.fixtures', *STEP_MODULES): __import__(name)\n"
             "print(json.dumps(sorted(sys.modules)))")
    preload = (f"import importlib, json, sys\nfor name in {forkserver.WORKER_LIBRARIES!r}: "
               "importlib.import_module(name)\nprint(json.dumps(sorted(sys.modules)))")
    worker, server = (set(json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                                                    text=True, check=True, timeout=120).stdout))
                      for code in (probe, preload))
    ours = {"harness", "steps", "virtual_appliances", *plugins}
    third_party = {m for m in worker
                   if m.split(".")[0] not in sys.stdlib_module_names | ours and not m.startswith("__")}
    missing = sorted(third_party - server)
    assert len(missing) <= len(third_party) // 20, f"a worker imports these itself: {missing}"
