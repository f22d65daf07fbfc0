"""No dependency warning reaches a ``ctrlab`` command or a pytest summary (issue 16: asyncssh's DSA warning).

Each check runs in a fresh interpreter, as a user's shell would: filters installed by this test run do not
leak into it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .support import sample_testbed, write_testbed

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def run(argv: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)  # this checkout
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def assert_quiet(done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    assert "Warning" not in output, output
    assert "DSA is deprecated" not in output, output


def test_the_environment_has_the_warning_to_silence() -> None:
    # The control: importing asyncssh bare does warn with this cryptography (else the checks below prove nothing).
    done = run([sys.executable, "-c", "import asyncssh"])
    if "DSA is deprecated" not in done.stderr:
        pytest.skip("this cryptography does not deprecate DSA: nothing to silence")
    assert "CryptographyDeprecationWarning" in done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["steps"], ["doctor", "--help"]])
def test_ctrlab_commands_print_no_warning(argv: list[str]) -> None:
    done = run([sys.executable, "-m", "harness.cli", *argv])
    assert done.returncode == 0, done.stderr
    assert_quiet(done)


def test_testbed_validate_prints_no_warning(tmp_path: Path) -> None:
    path = write_testbed(tmp_path / "tb.yaml", sample_testbed())
    done = run([sys.executable, "-m", "harness.cli", "testbed", "validate", str(path)])
    assert done.returncode == 0 and done.stdout == f"{path}: ok (1 device, region nam)\n", done.stderr
    assert_quiet(done)


SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.mark.skipif(not SYSTEM_BUNDLE.is_file(), reason="no system CA bundle here")
def test_a_testbed_naming_the_system_ca_bundle_validates_without_warning(tmp_path: Path) -> None:
    # System bundles carry legacy certificates cryptography warns about when the bundle is read.
    path = write_testbed(tmp_path / "tb.yaml", sample_testbed(network={"ca_bundle": str(SYSTEM_BUNDLE)}))
    done = run([sys.executable, "-m", "harness.cli", "testbed", "validate", str(path)])
    assert done.returncode == 0, done.stderr
    assert_quiet(done)


def test_the_simulator_lab_prints_no_warning() -> None:
    done = run([sys.executable, "-m", "virtual_appliances.lab", "--help"])
    assert done.returncode == 0, done.stderr
    assert_quiet(done)


TINY_TEST = '''
def test_imports_asyncssh_inside_a_test():
    import asyncssh  # first imported here: pytest records warnings raised inside a test
    assert asyncssh.__version__
'''


@pytest.mark.parametrize("plugin", ["with the plugin", "pyproject filter alone"])
def test_a_pytest_summary_has_no_warning(tmp_path: Path, plugin: str) -> None:
    (tmp_path / "test_tiny.py").write_text(TINY_TEST)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
            "--rootdir", str(tmp_path), "-o", "testpaths=", str(tmp_path / "test_tiny.py")]
    if plugin != "with the plugin":
        argv[3:3] = ["-p", "no:ctrlab"]  # no harness import at all: only pyproject's filterwarnings acts
    done = run(argv, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout and "warning" not in done.stdout.lower(), done.stdout
    assert_quiet(done)
