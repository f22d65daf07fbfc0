"""``ctrlab sim up --integrated|status|fault|reset|down`` end to end, as a lab engineer runs them: a real
lab process, the harness talking to it over its control plane only, ``ctrlab doctor`` on top."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.support import sample_testbed, write_testbed

START_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 120.0


def ctrlab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-W", "ignore", "-m", "harness.cli", *args], capture_output=True,
                          text=True, timeout=COMMAND_TIMEOUT_S, env=env, check=False)


@dataclass
class RunningLab:
    process: subprocess.Popen[str]
    testbed: Path
    tmpdir: Path
    env: dict[str, str]


@pytest.fixture
def integrated_lab(tmp_path: Path) -> Iterator[RunningLab]:
    tmpdir = tmp_path / "tmp"  # the lab's temporary folders land here: the test can see what is left
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONWARNINGS": "ignore"}
    testbed = tmp_path / "tb.yaml"
    process = subprocess.Popen([sys.executable, "-m", "harness.cli", "sim", "up", "--appliances", "2", "--integrated",
                                "--testbed-out", str(testbed)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env)
    end = time.monotonic() + START_TIMEOUT_S
    while not testbed.exists():
        assert process.poll() is None, f"the lab exited: {process.stdout.read() if process.stdout else ''}"
        assert time.monotonic() < end, "the lab did not write its testbed in time"
        threading.Event().wait(0.05)  # poll to the deadline
    try:
        yield RunningLab(process, testbed, tmpdir, env)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def test_an_integrated_lab_passes_doctor_and_the_sim_commands_drive_it(integrated_lab: RunningLab) -> None:
    lab, tb = integrated_lab, str(integrated_lab.testbed)
    assert list(lab.tmpdir.glob("ctrlab-lab-*")), "the lab keeps its CA in a temporary folder while it runs"

    doctor = ctrlab("doctor", "--testbed", tb, env=lab.env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "0 failed" in doctor.stdout

    status = ctrlab("sim", "status", "--testbed", tb, env=lab.env)
    assert status.returncode == 0, status.stderr
    assert "lab: up" in status.stdout and "appliance esa1 (esa 13.0.0-392): registered" in status.stdout

    listing = ctrlab("sim", "fault", "list", "--testbed", tb, env=lab.env)
    assert listing.returncode == 0 and "firewall-drop" in listing.stdout and "PRE-3" in listing.stdout
    applied = ctrlab("sim", "fault", "set", "ctr-api-status", "region=nam", "status=503", "--testbed", tb, env=lab.env)
    assert applied.returncode == 0, applied.stderr
    assert "faults: ctr-api-status region=nam status=503" in ctrlab("sim", "status", "--testbed", tb,
                                                                    env=lab.env).stdout
    broken = ctrlab("doctor", "--testbed", tb, env=lab.env)
    assert broken.returncode == 1, "doctor sees Threat Response answer 503"
    bad = ctrlab("sim", "fault", "set", "ctr-api-status", "status=abc", "--testbed", tb, env=lab.env)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "'status' must be int" in bad.stderr
    cleared = ctrlab("sim", "fault", "clear", "ctr-api-status", "--testbed", tb, env=lab.env)
    assert cleared.returncode == 0 and "1 instance" in cleared.stdout

    reset = ctrlab("sim", "reset", "--appliance", "esa1", "--testbed", tb, env=lab.env)
    assert reset.returncode == 0, reset.stderr
    assert "removed 1 SSE record(s), 1 Threat Response module(s)" in reset.stdout
    after = ctrlab("doctor", "--testbed", tb, env=lab.env)
    assert after.returncode == 1 and "esa2" in after.stdout

    down = ctrlab("sim", "down", "--testbed", tb, env=lab.env)
    assert down.returncode == 0, down.stderr
    assert lab.process.wait(timeout=30) == 0
    assert not lab.testbed.exists()
    assert list(lab.tmpdir.glob("ctrlab-lab-*")) == [], "a stopped lab leaves no temporary folder behind"
    gone = ctrlab("sim", "status", "--testbed", tb, env=lab.env)
    assert gone.returncode == 1 and "the lab is down" in gone.stderr


def test_sim_up_refuses_a_testbed_out_in_a_missing_folder_in_one_line(tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.yaml"
    result = ctrlab("sim", "up", "--testbed-out", str(target))
    assert result.returncode == 2
    assert result.stderr.strip() == f"ctrlab sim up: --testbed-out: folder {target.parent} does not exist"
    assert not (tmp_path / "nonexistent").exists(), "no folder is created"


def test_the_lab_module_refuses_it_too_without_creating_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.yaml"
    result = subprocess.run([sys.executable, "-W", "ignore", "-m", "virtual_appliances.lab", "--testbed-out",
                             str(target)], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    assert result.returncode == 2 and "--testbed-out: folder" in result.stderr
    assert not (tmp_path / "missing").exists()


def test_status_and_down_on_a_lab_that_is_gone(tmp_path: Path) -> None:
    testbed = write_testbed(tmp_path / "tb.yaml", sample_testbed(simulator=True))  # port 9: nobody answers
    status = ctrlab("sim", "status", "--testbed", str(testbed))
    assert status.returncode == 1 and status.stderr.startswith("ctrlab sim status: the lab is down")
    down = ctrlab("sim", "down", "--testbed", str(testbed))
    assert down.returncode == 0 and "already down" in down.stdout


@pytest.mark.parametrize("command", [["sim", "status"], ["sim", "down"], ["sim", "reset"], ["sim", "fault", "list"],
                                     ["sim", "fault", "set"], ["sim", "up"]])
def test_every_sim_help_has_a_description(command: list[str]) -> None:
    result = ctrlab(*command, "--help")
    assert result.returncode == 0, result.stderr
    _usage, _, rest = result.stdout.partition("\n\n")
    assert rest.strip() and not rest.startswith("positional arguments") and not rest.startswith("options")
    if command[-1] in ("down", "up"):
        assert "(default: " in result.stdout
