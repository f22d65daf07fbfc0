"""Start the bundled lab the way a user does (`python -m virtual_appliances.lab`) and stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import yaml

READY_DEADLINE_S = 60.0
# ``python -c`` code: pytest with this tree's lab backend (--testbed) even when the installed entry point names
# another module (an editable install of another checkout): a run must use this tree's harness.
PYTEST_WITH_LAB_BACKEND = """
import importlib, sys, pytest
from harness.backends.base import BackendError
from harness.backends.registry import get_backend, register_backend
try:
    get_backend("lab")
except BackendError:
    for module, name in (("harness.backends.lab", "LabBackend"), ("harness.backends.gear", "GearBackend")):
        try:
            register_backend("lab", getattr(importlib.import_module(module), name))
            break
        except ImportError:
            continue
sys.exit(pytest.main(sys.argv[1:]))
"""


@contextlib.contextmanager
def running_lab(directory: Path, *args: str, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Yield the testbed (as a dict) of a lab started in a subprocess; always stop it. ``cwd``/``env`` run it
    elsewhere (bench/power.py starts a lab from a broken copy of the simulators)."""
    testbed = directory / "testbed.yaml"
    log = (directory / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "virtual_appliances.lab", "--testbed-out", str(testbed), "--dir", str(directory),
         *args],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd, env=env,
    )
    try:
        deadline = time.monotonic() + READY_DEADLINE_S
        while not testbed.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lab did not start: {(directory / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.02)  # poll interval while waiting for the testbed file
        data = yaml.safe_load(testbed.read_text())
        control = data["testbed"]["simulator"]["control_url"]
        requests.get(f"{control}/_sim/health", timeout=5).raise_for_status()
        yield data
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
