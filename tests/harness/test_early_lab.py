"""The sim lab is launched while pytest starts, only for runs that will provision one (harness/early_lab.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness import early_lab
from harness.backends import BackendOptions
from harness.backends.sim import SimBackend
from harness.session import SESSION_KEY

pytest_plugins = ["pytester"]

INI = """\
[pytest]
addopts = -p no:cacheprovider -p no:hypothesispytest -p no:benchmark -p no:timeout
bdd_features_base_dir = features
testpaths = features
"""


@pytest.fixture
def started(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> list[SimBackend | str]:
    """A project with features/ and tests/; SimBackend.start (and the xdist controller's fork server) record
    instead of launching a process."""
    pytester.makefile(".ini", pytest=INI)
    pytester.mkdir("features")
    pytester.mkdir("tests")
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("CTRLAB_REPORTS_DIR", raising=False)
    launched: list[SimBackend | str] = []
    monkeypatch.setattr(SimBackend, "start", lambda self: launched.append(self))
    monkeypatch.setattr(early_lab, "_is_bundled_suite", lambda rootpath: True)
    monkeypatch.setattr(SimBackend, "teardown", lambda self: launched.remove(self) if self in launched else None)
    monkeypatch.setattr(early_lab, "_start_fork_server", lambda config: launched.append("fork server"))
    return launched


def test_a_feature_run_starts_the_lab_before_configure_and_keeps_it(pytester: pytest.Pytester,
                                                                    started: list[SimBackend | str]) -> None:
    config = pytester.parseconfigure()
    assert len(started) == 1
    assert started[0].options.appliances == 2 and started[0].options.log_name == "sim-lab.log"
    assert config.stash[SESSION_KEY].backend is started[0]  # adopted: the lab fixture waits for this one


@pytest.mark.parametrize("args", [("--collect-only",), ("tests",), ("--backend", "lab"), ("-n", "2", "tests"),
                                  ("--sim-appliances", "0"), ("--fixtures",), ("-n", "2", "--collect-only")])
def test_runs_that_provision_no_sim_lab_start_none(pytester: pytest.Pytester, started: list[SimBackend | str],
                                                   args: tuple[str, ...]) -> None:
    pytester.parseconfig(*args)  # up to pytest_load_initial_conftests (configure would refuse some of these)
    assert started == []


def test_the_xdist_controller_starts_the_fork_server_not_a_lab(pytester: pytest.Pytester,
                                                                started: list[SimBackend | str]) -> None:
    pytester.parseconfig("-n", "2")
    assert started == ["fork server"]  # its workers, and their labs, are forks of it (harness/forkserver)


def test_an_xdist_worker_starts_its_own_lab(pytester: pytest.Pytester, started: list[SimBackend | str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    pytester.parseconfig("-n", "2", "--sim-appliances", "3")
    assert [(b.options.log_name, b.options.appliances) for b in started] == [("sim-lab-gw1.log", 3)]


def test_a_lab_started_with_other_options_is_stopped_and_not_used(pytester: pytest.Pytester,
                                                                  started: list[SimBackend | str]) -> None:
    config = pytester.parseconfig()
    assert early_lab.EARLY_KEY in config.stash
    fresh = SimBackend(BackendOptions(appliances=5))
    closers: list[object] = []
    state = SimpleNamespace(on_close=closers.append)
    assert early_lab.adopt(config, state, fresh) is fresh  # type: ignore[arg-type]
    assert closers == []
    assert started == []  # the early one was torn down


def test_another_project_starts_its_lab_only_when_a_scenario_asks(pytester: pytest.Pytester,
                                                                  started: list[SimBackend | str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real check: the pytester project is not this checkout
    pytester.parseconfig()
    assert not early_lab._is_bundled_suite(pytester.path)
