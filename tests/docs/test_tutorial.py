"""docs/tutorial.md, done as the reader does it: its scenario, its commands, both ways (issue 16).

The scenario is taken from the page's ``gherkin`` block and the commands from its ``sh`` blocks, so the
page cannot drift from what runs. The feature goes into a scratch project laid out like the checkout
(``features/`` with the binding module, the root conftest, the project's pytest settings) rather than
into the real ``features/``, which other runs read at the same time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from harness.polling import poll_until

from .doc_commands import ROOT, commands_of

TUTORIAL = ROOT / "docs" / "tutorial.md"
TIMEOUT = 300


def tutorial_feature() -> tuple[str, str]:
    """(file name, text) of the scenario the page asks the reader to save."""
    text = TUTORIAL.read_text(encoding="utf-8")
    name = re.search(r"Save this as `features/([\w-]+\.feature)`", text)
    block = re.search(r"^```gherkin\n(.*?)^```", text, re.S | re.M)
    assert name and block, "docs/tutorial.md lost its scenario or the file name to save it as"
    return name.group(1), block.group(1)


def tutorial_command(prefix: str) -> list[str]:
    """The page's command line starting with ``prefix`` (as argv)."""
    found = [c.argv for c in commands_of(TUTORIAL) if " ".join(c.argv).startswith(prefix)]
    assert len(found) == 1, f"docs/tutorial.md: expected one command starting {prefix!r}, found {found}"
    return found[0]


def ini_text() -> str:
    """The project's [tool.pytest.ini_options] as a pytest.ini (the reader runs with the project's settings)."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    lines = ["[pytest]"]
    for key, value in options.items():
        if isinstance(value, list):
            lines.append(f"{key} =" + "".join(f"\n    {v}" for v in value))
        else:
            lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    name, feature = tutorial_feature()
    features = tmp_path / "features"
    features.mkdir()
    (features / name).write_text(feature, encoding="utf-8")
    shutil.copy(ROOT / "features" / "test_scenarios.py", features / "test_scenarios.py")
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text(ini_text())
    return tmp_path


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return out


def run_pytest(argv: list[str], project: Path) -> subprocess.CompletedProcess[str]:
    assert argv[0] == "pytest"
    return subprocess.run([sys.executable, "-m", "pytest", *argv[1:]], cwd=project, env=env(), capture_output=True,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def assert_both_scenarios_passed(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    closing = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert re.search(r"\b2 passed\b", closing), done.stdout[-2000:]
    assert "failed" not in closing and "error" not in closing, done.stdout[-2000:]


def test_the_tutorial_scenario_uses_only_known_steps_and_an_area_tag() -> None:
    _, feature = tutorial_feature()
    assert "@tutorial" in feature and "@req:" in feature


def test_the_tutorial_scenario_runs_on_the_simulators(project: Path) -> None:
    done = run_pytest(tutorial_command("pytest -m"), project)
    assert_both_scenarios_passed(done)
    assert "ctrlab: backend sim" in done.stdout
    assert (project / "reports" / "allure-results").is_dir()  # the scratch project's, not the checkout's


def test_the_tutorial_scenario_runs_on_a_lab_started_with_sim_up(project: Path) -> None:
    written = "/tmp/tb.yaml"  # the page's path; here a private one, other runs share /tmp
    testbed = project / "tb.yaml"
    up = [str(testbed) if a == written else a for a in tutorial_command("ctrlab sim up")]
    validate = [str(testbed) if a == written else a for a in tutorial_command("ctrlab testbed validate")]
    suite = [str(testbed) if a == written else a for a in tutorial_command("pytest --testbed")]
    assert written in " ".join(tutorial_command("pytest --testbed"))
    lab = subprocess.Popen([sys.executable, "-m", "harness.cli", *up[1:]], cwd=project, env=env(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        poll_until(lambda: testbed.exists() or lab.poll() is not None, 60, interval=0.1,
                   describe="ctrlab sim up to write its testbed")
        assert lab.poll() is None, lab.stdout.read() if lab.stdout else ""
        checked = subprocess.run([sys.executable, "-m", "harness.cli", *validate[1:]], cwd=project, env=env(),
                                 capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0 and "ok (2 devices" in checked.stdout, checked.stderr
        done = run_pytest(suite, project)
        assert_both_scenarios_passed(done)
        assert f"ctrlab: backend lab, testbed {testbed}" in done.stdout  # the started lab, not a lab of its own
    finally:
        lab.send_signal(signal.SIGINT)  # Ctrl-C, as the page says
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            lab.kill()
            lab.wait(timeout=10)
    assert not testbed.exists(), "Ctrl-C should remove the lab's testbed (the page says so)"
