"""The pytest plugin in real sessions: tags -> markers, gating on real gear, destructive safety, backends,
one-line errors, Allure results (links, labels, steps, environment, categories) and its default dir."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from harness.report.allure_results import CATEGORIES

from .support import events, make_project, run, sample_testbed, write_testbed

pytest_plugins = ["pytester"]

GATED_FEATURE = """\
    @registration
    Feature: Demo conformance
      A feature written from the documents.

      @req:REG-2 @gui
      Scenario: A plain scenario runs everywhere
        Given the lab
        Then the appliance esa1 is described

      @req:REG-5 @cli @destructive
      Scenario: Deregistering changes the appliance
        Given the lab
        Then nothing more

      @req:TS-4 @manual:needs-a-token-past-its-expiry
      Scenario: An expired token is refused
        Given the lab
        Then nothing more

      @req:REG-8 @region:eu
      Scenario: A token from the EU SSE
        Given the lab
        Then nothing more

      @req:TS-5 @device:sma
      Scenario: An SMA integrates for its ESAs
        Given the lab
        Then nothing more

      @req:ENA-3
      Scenario Outline: The server <server> can be chosen
        Given the lab
        Then nothing more

        @region:nam
        Examples: Americas
          | server   |
          | AMERICAS |

        @region:eu
        Examples: Europe
          | server |
          | EUROPE |
    """

STEPS = textwrap.dedent("""\
    @given("the lab", target_fixture="the_lab")
    def _(lab):
        return lab

    @then("the appliance esa1 is described")
    def _(the_lab, testbed, deadlines, masker):
        assert the_lab.device("esa1").hostname == "esa1.example.com"
        assert testbed is the_lab.testbed and deadlines.poll_interval == 0.01

    @then("nothing more")
    def _():
        pass
    """)


def results(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*-result.json"))]


def by_name(directory: Path) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in results(directory)}


def labels(result: dict[str, Any], name: str) -> list[str]:
    return [label["value"] for label in result["labels"] if label["name"] == name]


def category_of(result: dict[str, Any]) -> str | None:
    """Which of our categories Allure would file a result under (first match wins, whole-text regex)."""
    message = (result.get("statusDetails") or {}).get("message", "")
    for category in CATEGORIES:
        if result["status"] in category["matchedStatuses"] and re.fullmatch(category.get("messageRegex", ".*"),
                                                                             message, re.S):
            return str(category["name"])
    return None


# ---- real gear: what runs, what is skipped, and why ------------------------------------------------------
def test_real_gear_gating_and_report(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATED_FEATURE, STEPS)
    write_testbed(pytester.path / "tb.yaml", sample_testbed())
    result = run(pytester, "--testbed", "tb.yaml", "-rs", "--alluredir", "allure")
    result.assert_outcomes(passed=2, skipped=5)
    out = result.stdout.str()
    assert "destructive scenario (it changes the appliance's cloud registration) on real gear: run with " \
           "--allow-destructive" in out
    assert "needs manual set-up on real gear: needs a token past its expiry" in out
    assert "the testbed has no cloud.sse.eu (the scenario is tagged @region:eu)" in out
    assert "the testbed has no sma device (the scenario is tagged @device:sma)" in out
    assert "ctrlab: backend lab, testbed tb.yaml, destructive scenarios on real gear skipped" in out

    allure = pytester.path / "allure"
    found = by_name(allure)
    assert len(found) == 7, sorted(found)  # skipped-at-set-up scenarios are in the report too
    plain = found["A plain scenario runs everywhere"]
    assert plain["status"] == "passed"
    assert plain["links"] == [{"type": "requirement", "url": "requirements.html#REG-2", "name": "REG-2"}]
    assert labels(plain, "epic") == ["Registering the appliance"] and labels(plain, "story") == ["REG-2"]
    assert labels(plain, "feature") == ["Demo conformance"]
    assert {"registration", "gui"} <= set(labels(plain, "tag"))
    assert [s["name"] for s in plain["steps"]] == ["Given the lab", "Then the appliance esa1 is described"]

    manual = found["An expired token is refused"]
    assert manual["status"] == "skipped" and category_of(manual) == "Needs manual set-up on real gear"
    assert manual["links"][0]["name"] == "TS-4" and manual["fullName"].endswith("demo.feature:An expired token is "
                                                                                 "refused")
    destructive = found["Deregistering changes the appliance"]
    assert category_of(destructive) == "Destructive scenario not allowed on real gear"
    assert category_of(found["A token from the EU SSE"]) == "Not applicable to this testbed"
    assert found["The server EUROPE can be chosen"]["status"] == "skipped"  # an Examples tag, mapped
    assert found["The server AMERICAS can be chosen"]["status"] == "passed"

    assert json.loads((allure / "categories.json").read_text()) == CATEGORIES
    env = (allure / "environment.properties").read_text().splitlines()
    assert "backend=lab (tb.yaml)" in env and "region=nam" in env and "destructive.allowed=False" in env
    assert "appliance.esa1=esa C100V AsyncOS 13.0.0-392 (esa1.example.com)" in env
    assert "appliance.models=C100V 13.0.0-392" in env


def test_tags_select_with_dash_m(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATED_FEATURE, STEPS, testbed=sample_testbed(simulator=True))
    result = run(pytester, "--backend", "fake", "-m", "registration and not destructive and not region and not device "
                                                      "and not manual")
    result.assert_outcomes(passed=1, deselected=6)
    result = run(pytester, "--backend", "fake", "--collect-only", "-q", "-m", "region")
    assert result.ret == 0 and result.stdout.str().count("::") == 3  # 1 scenario + 2 outline examples


# ---- destructive scenarios: opt-in, snapshot and restore ---------------------------------------------------
DESTRUCTIVE_FEATURE = """\
    Feature: Destructive
      @req:REG-5 @destructive
      Scenario: Deregistering passes
        Given the lab
        Then nothing more

      @req:REG-6 @destructive
      Scenario: Switching region fails
        Given the lab
        Then the scenario fails
    """

DESTRUCTIVE_STEPS = STEPS + textwrap.dedent("""\
    @then("the scenario fails")
    def _():
        from pathlib import Path
        Path("events.log").open("a").write("scenario ran\\n")
        assert False, "the appliance did not deregister"
    """)


def test_allowed_destructive_scenarios_are_restored_also_on_failure(pytester: pytest.Pytester,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KEEPERS", "1")
    make_project(pytester, DESTRUCTIVE_FEATURE, DESTRUCTIVE_STEPS)
    write_testbed(pytester.path / "tb.yaml", sample_testbed())
    result = run(pytester, "--testbed", "tb.yaml", "--allow-destructive")
    result.assert_outcomes(passed=1, failed=1)
    assert events(pytester) == ["snapshot esa1", "restore esa1 nam",
                                "snapshot esa1", "scenario ran", "restore esa1 nam"]


def test_destructive_on_real_gear_is_refused_when_settings_cannot_be_recorded(pytester: pytest.Pytester) -> None:
    # The default keeper reads each appliance's Cloud Service Settings page; the sample testbed's
    # appliances do not answer, so nothing can be recorded and nothing is run.
    make_project(pytester, DESTRUCTIVE_FEATURE, DESTRUCTIVE_STEPS)
    write_testbed(pytester.path / "tb.yaml", sample_testbed())
    result = run(pytester, "--testbed", "tb.yaml", "--allow-destructive")
    result.assert_outcomes(errors=2)
    assert "could not record" in result.stdout.str() and "cloud settings" in result.stdout.str()
    assert events(pytester) == []  # nothing ran


def test_simulator_lab_runs_destructive_and_manual_scenarios(pytester: pytest.Pytester,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVEN_SIM", "1")  # its devices prove they are simulators (harness/provenance.py)
    feature = GATED_FEATURE.replace("@req:TS-5 @device:sma", "@req:TS-5")
    steps = STEPS + textwrap.dedent("""\
    def test_sim_control_is_a_client(sim_control):
        from harness.simcontrol import SimControl
        assert isinstance(sim_control, SimControl)
    """)
    make_project(pytester, feature, steps, testbed=sample_testbed(simulator=True))
    result = run(pytester, "--backend", "fake", "-rs")
    result.assert_outcomes(passed=6, skipped=2)  # only what needs cloud.sse.eu is skipped
    skips = [line for line in result.stdout.lines if line.startswith("SKIPPED")]  # each at its scenario's line
    assert len(skips) == 2 and all(line.startswith("SKIPPED [1] features/demo.feature:") for line in skips), skips
    assert all("the testbed has no cloud.sse.eu" in line for line in skips), skips


def test_sim_control_is_none_on_real_gear(pytester: pytest.Pytester) -> None:
    make_project(pytester, "Feature: none\n  Scenario: s\n    Given the lab\n", STEPS + textwrap.dedent("""\
    def test_no_control_plane(sim_control):
        assert sim_control is None
    """))
    write_testbed(pytester.path / "tb.yaml", sample_testbed())
    run(pytester, "--testbed", "tb.yaml").assert_outcomes(passed=2)


# ---- backends, provisioning, inertness ----------------------------------------------------------------------
def test_programmatic_backend_is_provisioned_once_and_only_when_needed(pytester: pytest.Pytester) -> None:
    make_project(pytester, GATED_FEATURE, STEPS, testbed=sample_testbed(simulator=True))
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    run(pytester, "--backend", "fake", "test_plain.py").assert_outcomes(passed=1)
    assert events(pytester) == []  # no lab fixture used: no lab
    run(pytester, "--backend", "fake", "-k", "plain or AMERICAS").assert_outcomes(passed=2, deselected=5)
    assert events(pytester) == ["provision", "teardown"]


def test_failed_provisioning_stops_with_one_message(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_BACKEND_FAILS", "1")
    make_project(pytester, GATED_FEATURE, STEPS, testbed=sample_testbed())
    (pytester.path / "allure").mkdir()
    result = run(pytester, "--backend", "fake", "--alluredir", "allure")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert "ctrlab: cannot provision the lab (fake): the fake lab is on fire" in output
    assert "Traceback" not in output and output.count("the fake lab is on fire") <= 2
    assert events(pytester) == ["provision", "teardown"]
    env = (pytester.path / "allure" / "environment.properties").read_text()
    assert "ctrlab.error=the fake lab is on fire" in env


@pytest.mark.parametrize(("args", "env", "expected"), [
    pytest.param(["--testbed", "bad.yaml"], {}, "ERROR: bad.yaml: devices.esa1.connections.cli.port: must be an "
                 "integer between 1 and 65535 (got 'abc')", id="malformed"),
    pytest.param(["--testbed", "env.yaml"], {}, "ERROR: env.yaml: testbed.credentials.default.password: environment "
                 "variable CTRLAB_PLUGIN_TEST_PW is not set", id="missing-env"),
    pytest.param(["--testbed", "good.yaml", "--region", "eu"], {}, "ERROR: good.yaml: cloud.sse: no entry for "
                 "region 'eu' asked with --region (the testbed describes: nam)", id="region-override"),
    pytest.param(["--backend", "lab"], {}, "ERROR: --backend lab needs --testbed PATH", id="lab-without-testbed"),
    pytest.param(["--backend", "sim", "--testbed", "good.yaml"], {}, "ERROR: --testbed describes an existing lab, "
                 "which the sim backend does not use", id="sim-with-testbed"),
    pytest.param(["--backend", "vmware"], {}, "ERROR: unknown backend 'vmware' (available: ", id="unknown-backend"),
    pytest.param(["--testbed", "missing.yaml"], {}, "ERROR: missing.yaml: no such file", id="missing-file"),
])
def test_configuration_errors_are_one_line(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                           args: list[str], env: dict[str, str], expected: str) -> None:
    monkeypatch.delenv("CTRLAB_PLUGIN_TEST_PW", raising=False)
    make_project(pytester, GATED_FEATURE, STEPS)
    bad = sample_testbed()
    bad["devices"]["esa1"]["connections"]["cli"]["port"] = "abc"
    write_testbed(pytester.path / "bad.yaml", bad)
    needs_env = sample_testbed()
    needs_env["testbed"]["credentials"]["default"]["password"] = "%ENV{CTRLAB_PLUGIN_TEST_PW}"
    write_testbed(pytester.path / "env.yaml", needs_env)
    write_testbed(pytester.path / "good.yaml", sample_testbed())
    (pytester.path / "allure").mkdir()
    result = run(pytester, *args, "--alluredir", "allure")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert expected in result.stderr.str(), result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert (pytester.path / "allure" / "categories.json").exists()  # a readable report, even so
    assert "ctrlab.error=" in (pytester.path / "allure" / "environment.properties").read_text()


# ---- lab faults: one line, the right Allure category, stop on refused credentials ----------------------------
FAULT_FEATURE = """\
    Feature: Faults
      @req:REG-3
      Scenario: The appliance is unreachable
        When I connect to the CLI of an unreachable appliance

      @req:REG-3
      Scenario: The password is wrong
        When I log in with a wrong password

      @req:REG-3
      Scenario: Never reached
        When nothing happens
    """

FAULT_STEPS = textwrap.dedent("""\
    from harness.errors import AuthenticationFailed, LabUnreachable

    @when("I connect to the CLI of an unreachable appliance")
    def _():
        raise LabUnreachable("esa1 CLI", "127.0.0.1:1", "[Errno 111] Connection refused")

    @when("I log in with a wrong password")
    def _():
        raise AuthenticationFailed("esa1 CLI", "127.0.0.1:2222", "permission denied")

    @when("nothing happens")
    def _():
        pass
    """)


def test_lab_faults_are_one_line_and_refused_credentials_stop_the_run(pytester: pytest.Pytester) -> None:
    make_project(pytester, FAULT_FEATURE, FAULT_STEPS)
    result = run(pytester, "--alluredir", "allure", "-p", "no:randomly")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert ("harness.errors.LabUnreachable (in step: When I connect to the CLI of an unreachable appliance): esa1 CLI "
            "unreachable at 127.0.0.1:1: [Errno 111] Connection refused") in out
    assert "-> a lab fault, not a conformance finding" in out
    assert "raise LabUnreachable" not in out  # no traceback
    assert "stopping: esa1 CLI at 127.0.0.1:2222 refused the credentials: permission denied" in out
    assert "lab faults (not conformance findings)" in out
    found = by_name(pytester.path / "allure")
    assert set(found) == {"The appliance is unreachable", "The password is wrong"}
    assert category_of(found["The appliance is unreachable"]) == "Lab unreachable"
    assert category_of(found["The password is wrong"]) == "Lab credentials refused"


def test_full_traceback_on_request(pytester: pytest.Pytester) -> None:
    make_project(pytester, FAULT_FEATURE, FAULT_STEPS)
    out = run(pytester, "--tb=long", "-k", "unreachable").stdout.str()
    assert "raise LabUnreachable" in out


def test_conformance_failures_and_harness_errors_are_told_apart(pytester: pytest.Pytester) -> None:
    feature = """\
    Feature: Findings
      @req:ENA-4
      Scenario: The page says something else
        When the appliance shows the wrong text

      @req:ENA-4
      Scenario: A step has a bug
        When a step has a bug
    """
    steps = """\
    @when("the appliance shows the wrong text")
    def _():
        assert "There is no data to commit." == "Success", "ENA-4: expected the success message"

    @when("a step has a bug")
    def _():
        {}["missing"]
    """
    make_project(pytester, feature, steps)
    run(pytester, "--alluredir", "allure").assert_outcomes(failed=2)
    found = by_name(pytester.path / "allure")
    assert category_of(found["The page says something else"]) == "Conformance failure"
    assert category_of(found["A step has a bug"]) == "Harness error"


# ---- tags the harness cannot accept ------------------------------------------------------------------------
def test_misspelt_or_unknown_tags_stop_collection(pytester: pytest.Pytester) -> None:
    feature = """\
    Feature: Typos
      @req:REG-5 @destrutive
      Scenario: A misspelt safety tag
        When nothing happens

      @region:us @foo:bar @manual
      Scenario: Bad tag values
        When nothing happens
    """
    make_project(pytester, feature, FAULT_STEPS)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "bad Gherkin tags:" in err
    assert ("features/demo.feature: scenario 'A misspelt safety tag': unknown tag @destrutive: did you mean "
            "@destructive?") in err
    assert "tag @region:us: the region is one of nam, eu, apjc" in err
    assert "unknown tag @foo:bar: tag schemes are @req:, @region:, @device:, @manual:, @known:, @epic:, @story:" in err
    assert "tag @manual needs a reason" in err


def test_epic_and_story_tags_override_the_defaults(pytester: pytest.Pytester) -> None:
    feature = """\
    @epic:Lab-readiness
    Feature: Overrides
      @req:PRE-3 @req:PRE-4 @story:Firewall-and-proxy
      Scenario: Two requirements, explicit labels
        When nothing happens
    """
    make_project(pytester, feature, FAULT_STEPS)
    run(pytester, "--alluredir", "allure").assert_outcomes(passed=1)
    [result] = results(pytester.path / "allure")
    assert labels(result, "epic") == ["Lab readiness"] and labels(result, "story") == ["Firewall and proxy"]
    assert [link["name"] for link in result["links"]] == ["PRE-3", "PRE-4"]


def test_req_url_pattern_option(pytester: pytest.Pytester) -> None:
    feature = "Feature: f\n  @req:VER-4\n  Scenario: s\n    When nothing happens\n"
    make_project(pytester, feature, FAULT_STEPS)
    run(pytester, "--alluredir", "allure", "--req-url-pattern", "https://docs.example/req#{id}").assert_outcomes(
        passed=1)
    [result] = results(pytester.path / "allure")
    assert result["links"] == [{"type": "requirement", "url": "https://docs.example/req#VER-4", "name": "VER-4"}]


# ---- where results go by default ---------------------------------------------------------------------------
def test_feature_runs_write_allure_results_by_default_but_unit_tests_do_not(pytester: pytest.Pytester) -> None:
    make_project(pytester, "Feature: f\n  @req:VER-4\n  Scenario: s\n    When nothing happens\n", FAULT_STEPS)
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_unit.py").write_text("def test_unit():\n    assert True\n")
    default_dir = pytester.path / "reports" / "allure-results"

    run(pytester, "tests").assert_outcomes(passed=1)
    assert not default_dir.exists()

    run(pytester).assert_outcomes(passed=1)  # testpaths = features
    assert (default_dir / "categories.json").exists() and len(results(default_dir)) == 1
    run(pytester).assert_outcomes(passed=1)
    assert len(results(default_dir)) == 1  # cleaned each run: no stale results
    assert not (pytester.path / "reports" / "sim-lab.log").exists()  # no scenario needed a lab


def test_an_interrupted_run_still_restores_the_appliance(pytester: pytest.Pytester,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KEEPERS", "1")
    feature = "Feature: f\n  @req:REG-5 @destructive\n  Scenario: s\n    Given the lab\n    When the run is killed\n"
    steps = STEPS + textwrap.dedent("""\
        @when("the run is killed")
        def _():
            import threading
            from pathlib import Path
            Path("events.log").open("a").write("scenario started\\n")
            threading.Event().wait(60)  # SIGTERM arrives meanwhile
        """)
    make_project(pytester, feature, steps)
    write_testbed(pytester.path / "tb.yaml", sample_testbed())
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "--testbed", "tb.yaml", "--allow-destructive"],
                            cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while "scenario started" not in events(pytester):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert events(pytester) == ["snapshot esa1", "scenario started", "restore esa1 nam"], output
    assert proc.returncode == pytest.ExitCode.INTERRUPTED and "received SIGTERM" in output
