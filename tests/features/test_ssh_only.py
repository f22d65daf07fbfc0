"""Interfaces are their own oracles (issue 17 item 2): every scenario that drives only the CLI (@cli, not also
@gui) runs against an appliance reachable over SSH alone. The sim lab's testbed is copied with the appliance's
``gui`` and ``api`` connections removed, so any look at the web GUI or REST API fails the scenario."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.running_lab import running_lab

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 900


def without(testbed: dict, path: Path, interfaces: tuple[str, ...]) -> Path:
    """The testbed written to ``path`` with each appliance's ``interfaces`` connections removed."""
    for device in testbed["devices"].values():
        for interface in interfaces:
            device.get("connections", {}).pop(interface, None)
    path.write_text(yaml.safe_dump(testbed, sort_keys=False))
    path.chmod(0o600)
    return path


def ssh_only(testbed: dict, path: Path) -> Path:
    return without(testbed, path, ("gui", "api"))


def _cli_scenarios(path: Path, *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider", "--testbed",
         str(path), "-m", "cli and not gui", "-rfEs", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    out = run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else out[-2000:]
    assert run.returncode == 0, out[-6000:] + _cloud_events(path.parent / "lab.log")
    assert " passed" in summary and not re.search(r"\b\d+ (failed|errors?)\b", summary), summary
    assert int(summary.split(" passed")[0].split()[-1]) >= 60, summary
    return summary


def _cloud_events(log: Path) -> str:
    """What the lab did in the cloud and to its appliances (registrations, resets, connector jobs): what a
    failure's cause is read from once the lab is gone."""
    if not log.is_file():
        return ""
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if re.search(r"sse/|reset|connector|register", line)]
    return "\n--- the lab's cloud events, last 60 ---\n" + "\n".join(lines[-60:])


def test_every_cli_scenario_passes_on_an_appliance_with_only_ssh(tmp_path: Path) -> None:
    """Also without the lab's reset (``tests.support.no_reset``): each scenario then reaches its known state
    through the CLI procedures from whatever the one before left, as on an SSH-only appliance on gear."""
    with running_lab(tmp_path, "--appliances", "1", "--sma", "1") as testbed:
        path = ssh_only(testbed, tmp_path / "ssh-only.yaml")
        assert all("gui" not in d["connections"] and "api" not in d["connections"]
                   for d in yaml.safe_load(path.read_text())["devices"].values())
        _cli_scenarios(path)
        _cli_scenarios(path, "-p", "tests.support.no_reset")
