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


@contextlib.contextmanager
def started_lab(directory: Path, command: list[str], cwd: Path | None = None,
                env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """Run ``command`` (a lab that writes ``<directory>/testbed.yaml``) in its own process group until
    the testbed is written; yield the process and the testbed path; always stop it (SIGCONT first, so a
    lab a test froze can stop too)."""
    testbed = directory / "testbed.yaml"
    with (directory / "lab.log").open("w") as log:
        proc = subprocess.Popen([*command, "--testbed-out", str(testbed), "--dir", str(directory)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd, env=env)
        try:
            deadline = time.monotonic() + READY_DEADLINE_S
            while not testbed.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"lab did not start: {(directory / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.02)  # poll interval while waiting for the testbed file
            yield proc, testbed
        finally:
            stop_group(proc)


def stop_group(proc: subprocess.Popen[Any], grace: float = 20.0) -> None:
    """SIGCONT and SIGINT to the process group, SIGKILL after ``grace`` seconds."""
    for sig in (signal.SIGCONT, signal.SIGINT):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def running_lab(directory: Path, *args: str, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Yield the testbed (as a dict) of a lab started in a subprocess; always stop it. ``cwd``/``env`` run it
    elsewhere (bench/power.py starts a lab from a broken copy of the simulators)."""
    with started_lab(directory, [sys.executable, "-m", "virtual_appliances.lab", *args], cwd,
                     env) as (_, testbed):
        data = yaml.safe_load(testbed.read_text())
        control = data["testbed"]["simulator"]["control_url"]
        requests.get(f"{control}/_sim/health", timeout=5).raise_for_status()
        yield data
