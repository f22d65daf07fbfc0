"""The destructive guard asks each device what it is (issue 15 item 5): a testbed's ``simulator:`` block
is a claim, and devices that do not prove they are this lab's simulators count as real gear."""

from __future__ import annotations

import textwrap

import pytest

from harness.provenance import unproven
from harness.testbed import validate_data
from tests.support.running_lab import running_lab
from tests.support.sim_proof import serving

from .support import events, make_project, run, sample_testbed

pytest_plugins = ["pytester"]

FEATURE = """\
    Feature: Destructive
      @req:REG-5 @destructive
      Scenario: Deregistering changes the appliance
        Given the lab
        Then the scenario ran
    """

STEPS = textwrap.dedent("""\
    @given("the lab")
    def _(lab):
        pass

    @then("the scenario ran")
    def _():
        from pathlib import Path
        Path("events.log").open("a").write("scenario ran\\n")
    """)


def test_a_simulator_block_pointing_at_real_gear_still_needs_allow_destructive(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # The control plane vouches for its lab, but esa1's SSH port is a real appliance's OpenSSH.
    monkeypatch.setenv("FAKE_PROVEN_SIM", "1")
    monkeypatch.setenv("FAKE_SSH_BANNER", "SSH-2.0-OpenSSH_7.4")
    make_project(pytester, FEATURE, STEPS, testbed=sample_testbed(simulator=True))
    result = run(pytester, "--backend", "fake", "-rs")
    result.assert_outcomes(skipped=1)
    out = result.stdout.str()
    assert "run with --allow-destructive" in out and "esa1: its SSH server is 'SSH-2.0-OpenSSH_7.4'" in out
    assert "scenario ran" not in events(pytester)


def test_a_simulator_block_without_a_live_control_plane_needs_allow_destructive(pytester: pytest.Pytester) -> None:
    make_project(pytester, FEATURE, STEPS, testbed=sample_testbed(simulator=True))  # control_url :9, nobody
    result = run(pytester, "--backend", "fake", "-rs")
    result.assert_outcomes(skipped=1)
    assert "esa1: the simulator control plane did not vouch for it" in result.stdout.str()


def test_proven_simulators_run_destructive_scenarios_without_the_flag(pytester: pytest.Pytester,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVEN_SIM", "1")
    make_project(pytester, FEATURE, STEPS, testbed=sample_testbed(simulator=True))
    run(pytester, "--backend", "fake").assert_outcomes(passed=1)
    assert "scenario ran" in events(pytester)


def with_cli(data: dict, port: int, control_url: str) -> dict:  # type: ignore[type-arg]
    data["testbed"]["simulator"]["control_url"] = control_url
    data["devices"]["esa1"]["connections"]["cli"]["port"] = port
    return data


def test_another_labs_id_is_not_proof() -> None:
    with serving(lab_id="aaaa") as mine, serving(lab_id="bbbb") as other:
        testbed = validate_data(with_cli(sample_testbed(simulator=True), other.ssh_port, mine.control_url),
                                "tb.yaml", environ={})
        assert unproven(testbed, timeout=2) == {"esa1": "its SSH server is 'SSH-2.0-ctrlab-sim_bbbb', not this "
                                                        "lab's simulator"}
        testbed = validate_data(with_cli(sample_testbed(simulator=True), mine.ssh_port, mine.control_url),
                                "tb.yaml", environ={})
        assert unproven(testbed, timeout=2) == {}


def test_a_testbed_without_a_simulator_block_is_real_gear() -> None:
    testbed = validate_data(sample_testbed(), "tb.yaml", environ={})
    assert unproven(testbed) == {"esa1": "the testbed describes no simulator"}


@pytest.mark.timeout(120)
def test_the_bundled_lab_proves_itself(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with running_lab(tmp_path, "--appliances", "2") as data:
        testbed = validate_data(data, "testbed.yaml", environ={})
        assert unproven(testbed) == {}
        # The same testbed with esa2's CLI pointed at esa1 of ANOTHER lab would fail; here: at the GUI port.
        data["devices"]["esa2"]["connections"]["cli"]["port"] = data["devices"]["esa2"]["connections"]["gui"]["port"]
        forged = validate_data(data, "testbed.yaml", environ={})
        assert set(unproven(forged, timeout=2)) == {"esa2"}
