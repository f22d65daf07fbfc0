"""Interfaces are their own oracles (issue 17 item 2): every scenario that drives only the web GUI (@gui, not
also @cli) runs against an appliance that offers the GUI alone. The sim lab's testbed is copied with each
appliance's ``cli`` (SSH) and ``api`` (AsyncOS REST API) connections removed, so any look at the CLI or the REST
API fails the scenario. The REST API goes too: the documents' GUI procedures are the oracle of a @gui scenario,
and no step reads the REST API. ``smtp`` stays: it is the mail a scenario sends, not a way to manage the appliance.

A scenario tagged with an interface the testbed does not give skips, with one line naming the connection."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.features.test_ssh_only import ssh_only, without
from tests.support.running_lab import running_lab

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 900


def gui_only(testbed: dict, path: Path) -> Path:
    return without(testbed, path, ("cli", "api"))


@pytest.fixture(scope="module")
def sim_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    directory = tmp_path_factory.mktemp("gui-only-lab")
    # A gateway too: the ENA-8 scenarios are @gui.
    with running_lab(directory, "--appliances", "1", "--sma", "1", "--gateway", "1") as testbed:
        yield testbed


def features(testbed: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider", "--testbed", str(testbed),
         "-rfEs", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else (run.stdout + run.stderr)[-2000:]
    return run, summary


def count(summary: str, outcome: str) -> int:
    m = re.search(rf"(\d+) {outcome}\b", summary)
    return int(m.group(1)) if m else 0


def test_every_gui_scenario_passes_on_an_appliance_with_only_the_gui(sim_lab: dict, tmp_path: Path) -> None:
    path = gui_only(yaml.safe_load(yaml.safe_dump(sim_lab)), tmp_path / "gui-only.yaml")
    assert all(set(d["connections"]) == {"gui", "smtp"}
               for d in yaml.safe_load(path.read_text())["devices"].values())
    run, summary = features(path, "-m", "gui and not cli")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    assert not re.search(r"\b\d+ (failed|errors?)\b", summary), summary
    # All of them, destructive ones included: a GUI-only appliance proves it is a simulator over its GUI.
    assert count(summary, "passed") >= 37 and count(summary, "skipped") == 0, summary


def test_a_scenario_tagged_with_an_interface_the_testbed_lacks_skips_naming_the_connection(
        sim_lab: dict, tmp_path: Path) -> None:
    gui = gui_only(yaml.safe_load(yaml.safe_dump(sim_lab)), tmp_path / "gui-only.yaml")
    ssh = ssh_only(yaml.safe_load(yaml.safe_dump(sim_lab)), tmp_path / "ssh-only.yaml")
    for testbed, marks, missing in ((gui, "cli and not gui", "cli"), (gui, "cli and gui", "cli"),
                                    (ssh, "gui and not cli", "gui")):
        run, summary = features(testbed, "-m", marks)
        line = (f"the scenario is tagged @{missing} and the testbed gives no {missing} connection for esa1 "
                f"(devices.esa1.connections.{missing})")
        assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
        assert count(summary, "skipped") >= 5 and count(summary, "passed") == 0, summary
        assert line in run.stdout, run.stdout[-4000:]


def test_a_scenario_tagged_neither_runs_on_either_interface_and_skips_without_one(
        sim_lab: dict, tmp_path: Path) -> None:
    """Untagged scenarios read and set up the appliance through whichever interface the testbed gives: each runs
    GUI-only and SSH-only alike. On an appliance with neither, one that touches the appliance skips, naming the
    connection, and never fails."""
    for name, dropped in (("gui-only", ("cli", "api")), ("ssh-only", ("gui", "api"))):
        testbed = without(yaml.safe_load(yaml.safe_dump(sim_lab)), tmp_path / f"{name}.yaml", dropped)
        run, summary = features(testbed, "-m", "not gui and not cli")
        assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
        assert count(summary, "passed") >= 80 and count(summary, "skipped") == 0, (name, summary)
    neither = without(yaml.safe_load(yaml.safe_dump(sim_lab)), tmp_path / "neither.yaml", ("cli", "gui", "api"))
    run, summary = features(neither, "-m", "not gui and not cli")
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    assert count(summary, "skipped") >= 20 and count(summary, "passed") >= 1, summary
    skips = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips and all(re.search(r"the scenario drives the (GUI|CLI) and the testbed gives no (gui|cli) connection "
                                   r"for \w+ \(devices\.\w+\.connections\.(gui|cli)\)", line) for line in skips), \
        "\n".join(skips)


# Scenarios that need a factory-fresh appliance, which no documented procedure restores on gear (found by the
# walk below, with the CLI set-ups on a full testbed alike): ENA-1's "No Server is set.", ENA-3's default selection.
NEEDS_A_FRESH_APPLIANCE = ("initial_cloud_service_settings_page", "americas_is_the_default")


def test_gui_scenarios_reach_their_known_state_through_the_gui_as_on_gear(sim_lab: dict, tmp_path: Path) -> None:
    """Without the control plane's reset, the Background walks the documented GUI procedures (Deregister,
    Edit Settings, Commit Changes) from whatever the scenario before left, as on a GUI-only appliance on gear."""
    path = gui_only(yaml.safe_load(yaml.safe_dump(sim_lab)), tmp_path / "gui-only.yaml")
    deselect = " and ".join(f"not {name}" for name in NEEDS_A_FRESH_APPLIANCE)
    run, summary = features(path, "-p", "tests.support.no_reset", "-m", "gui and not cli", "-k", deselect)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    assert count(summary, "passed") >= 34 and count(summary, "skipped") == 0, summary
