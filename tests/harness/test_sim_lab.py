"""The sim backend against the real bundled lab (``python -m virtual_appliances.lab``), the way
``pytest`` without options runs the suite. Skips with the reason until the simulators import."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.backends import BackendOptions
from harness.backends.sim import SimBackend
from harness.simcontrol import SimControl
from harness.testbed import json_schema

from .support import make_project, run

pytest.importorskip("virtual_appliances.lab", reason="the bundled simulators do not import yet")
pytest_plugins = ["pytester"]


def test_sim_backend_provisions_the_bundled_lab(tmp_path: Path) -> None:
    backend = SimBackend(BackendOptions(appliances=2, reports_dir=tmp_path / "reports"))
    try:
        testbed = backend.provision()
        assert backend.workdir is not None
        written = yaml.safe_load((backend.workdir / "testbed.yaml").read_text())
        assert not list(jsonschema.Draft202012Validator(json_schema()).iter_errors(written))
        assert sorted(testbed.devices) == ["esa1", "esa2", "gateway1", "sma1"] and testbed.is_simulator
        assert testbed.devices_of("sma") == ["sma1"] and testbed.devices_of("gateway") == ["gateway1"]
        assert testbed.secrets(), "the lab's passwords and client secrets are known to the masker"
        assert testbed.simulator is not None
        control = SimControl(testbed.simulator.control_url)
        try:
            assert control.health()["appliances"] == 4
            assert control.get("/_sim/clock")["speed"] > 0
        finally:
            control.close()
        process = backend.process
    finally:
        backend.teardown()
    assert process is not None and process.returncode is not None
    assert "ctrlab lab ready" in (tmp_path / "reports" / "sim-lab.log").read_text()


FEATURE = """\
    Feature: The bundled lab
      @req:PRE-1
      Scenario: The lab answers on its control plane
        Given the lab
        Then the control plane reports 4 appliances
    """

STEPS = """\
    @given("the lab", target_fixture="the_lab")
    def _(lab):
        return lab

    @then(parsers.parse("the control plane reports {n:d} appliances"))
    def _(sim_control, poll_until, n):
        poll_until(lambda: sim_control.health()["appliances"] == n, "cloud_ready", describe="the lab's health")
    """


def test_default_backend_runs_a_scenario_on_the_bundled_lab(pytester: pytest.Pytester) -> None:
    make_project(pytester, FEATURE, STEPS)
    result = run(pytester, "-q", "--alluredir", "allure")
    result.assert_outcomes(passed=1)
    env = (pytester.path / "allure" / "environment.properties").read_text()
    assert "backend=sim (2 esa, 1 sma, 1 gateway)" in env and "simulator.version=" in env
    assert "appliance.esa2=esa C100V" in env and "appliance.sma1=sma" in env
    assert json.loads((pytester.path / "allure" / "categories.json").read_text())
    assert "ctrlab lab stopped" in (pytester.path / "reports" / "sim-lab.log").read_text()
