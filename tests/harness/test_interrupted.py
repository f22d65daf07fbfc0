"""Ctrl-C and a dead lab on real gear (issue 15 item 4): an interrupted scenario is reported (broken,
"interrupted"), a passed scenario whose restore is interrupted keeps its result, and a lab that died
leaves one "restore by hand" line per appliance, no traceback and no retries."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from .support import events, make_project, sample_testbed, write_testbed

pytest_plugins = ["pytester"]

FEATURE = """\
    Feature: f
      @req:REG-5 @destructive
      Scenario: s
        Given the lab
        When the scenario runs
    """

STEPS = textwrap.dedent("""\
    @given("the lab")
    def _(lab):
        pass
    """)

# Keepers for a lab engineer's real gear, driven by the test through environment variables.
KEEPERS = textwrap.dedent('''\

    class InterruptingKeeper(Keeper):
        """Ctrl-C arrives while the restore runs (KEEPER_MODE=interrupt-restore), or the lab is dead (dead)."""

        def restore(self, snapshot):
            mode = os.environ.get("KEEPER_MODE")
            if mode == "dead":
                event(f"restore attempt {self.name}")
                raise ConnectionError(f"{self.name} GUI unreachable at 127.0.0.1:9: connection refused")
            if mode == "interrupt-restore":
                import signal
                os.kill(os.getpid(), signal.SIGINT)  # delivered once the restore is over (deferred)
            super().restore(snapshot)

        def describe(self, snapshot):
            return "Network > Cloud Service Settings: enabled, server AMERICAS, registered"


    if os.environ.get("KEEPER_MODE"):
        def pytest_ctrlab_settings_keepers(lab, item):
            return [InterruptingKeeper(name) for name in lab.devices]
    ''')


def project(pytester: pytest.Pytester, step: str, devices: int = 1) -> Path:
    steps = STEPS + textwrap.dedent(step)
    make_project(pytester, FEATURE, steps)
    (pytester.path / "conftest.py").write_text((pytester.path / "conftest.py").read_text() + KEEPERS)
    data = sample_testbed()
    for i in range(2, devices + 1):
        data["devices"][f"esa{i}"] = data["devices"]["esa1"]
    write_testbed(pytester.path / "tb.yaml", data)
    return pytester.path


def results(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in directory.glob("*-result.json")]


def run_until(path: Path, marker: str, sig: int | None, *args: str) -> tuple[int, str]:
    """Run pytest on the project; once ``marker`` is in events.log send ``sig``; (exit status, output)."""
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "--testbed", "tb.yaml", "--allow-destructive",
                             "--alluredir", "allure", *args], cwd=path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        if sig is not None:
            deadline = time.monotonic() + 60
            log = path / "events.log"
            while marker not in (log.read_text() if log.exists() else ""):
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0].decode()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.05)
            proc.send_signal(sig)
        output = proc.communicate(timeout=60)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, output


WAITS = """\
    @when("the scenario runs")
    def _():
        import threading
        from pathlib import Path
        Path("events.log").open("a").write("scenario started\\n")
        threading.Event().wait(60)  # Ctrl-C arrives meanwhile
    """


def test_a_scenario_interrupted_by_ctrl_c_is_reported_broken_interrupted(pytester: pytest.Pytester,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KEEPERS", "1")
    path = project(pytester, WAITS)
    status, output = run_until(path, "scenario started", signal.SIGINT)
    assert status == pytest.ExitCode.INTERRUPTED, output
    found = results(path / "allure")
    assert len(found) == 1, output
    assert found[0]["status"] == "broken" and found[0]["statusDetails"]["message"] == "interrupted"
    assert found[0]["name"] == "s"
    assert events(pytester) == ["snapshot esa1", "scenario started", "restore esa1 nam"]


def test_a_passed_scenario_whose_restore_is_interrupted_keeps_its_result(pytester: pytest.Pytester,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEPER_MODE", "interrupt-restore")
    path = project(pytester, """\
        @when("the scenario runs")
        def _():
            pass
        """)
    status, output = run_until(path, "", None)
    assert status == pytest.ExitCode.INTERRUPTED, output
    found = results(path / "allure")
    assert [r["status"] for r in found] == ["passed"], output
    assert events(pytester) == ["snapshot esa1", "restore esa1 nam"]  # the restore finished


def test_a_dead_lab_at_exit_prints_one_line_per_unrestored_appliance(pytester: pytest.Pytester,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEPER_MODE", "dead")
    path = project(pytester, WAITS, devices=2)
    status, output = run_until(path, "scenario started", signal.SIGINT)
    assert status == pytest.ExitCode.INTERRUPTED, output
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    lines = [line for line in output.splitlines() if " NOT restored after " in line]
    assert len(lines) == 2, output
    for name in ("esa2", "esa1"):
        assert sum(line.startswith(f"{name} NOT restored after scenario ") for line in lines) == 1, output
    assert all(line.endswith("(ConnectionError: " + line.split("(ConnectionError: ")[1].split(")")[0] + "): restore "
                             "by hand: Network > Cloud Service Settings: enabled, server AMERICAS, registered")
               for line in lines), lines
    assert events(pytester).count("restore attempt esa1") == 1  # tried once, not again at exit
    assert len(output.splitlines()) < 60, output
