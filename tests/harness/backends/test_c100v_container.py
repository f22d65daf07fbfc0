"""``ctrlab c100v up`` end to end: the wrapper image in docker boots the stand-in C100V and tears down.

The stand-in (virtual_appliances/c100v/standin/) logs in on its serial console like an appliance, so this
exercises what a user gets with a real qcow2: the image built from its inputs, the qcow2 mounted
read-only, the serial bootstrap, health-gated readiness, a testbed the harness's drivers use as is, and
a clean stop on Ctrl-C (pressed twice, as impatient people do) that removes everything and keeps the log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.appliance import AsyncOSCli
from harness.backends.docker import LABEL_BACKEND, LABEL_OWNER, connect, owner_label
from harness.testbed import load_testbed
from tests.support.docker import docker_unusable
from tests.support.ssh_trust import fetched
from tests.support.standin import build_standin, file_sha256, unbuildable

ROOT = Path(__file__).resolve().parents[3]
READY_TIMEOUT_S = 1200  # a first run builds the image (apt-get install qemu) and boots under TCG
STOP_TIMEOUT_S = 120
HOSTNAME = "esa1.lab.example"

REASON = docker_unusable(ROOT) or unbuildable()
pytestmark = [pytest.mark.skipif(REASON is not None, reason=f"c100v in docker unusable here: {REASON}"),
              pytest.mark.timeout(READY_TIMEOUT_S + 600)]


@dataclass
class Running:
    process: subprocess.Popen[str]
    testbed: Path
    output: Path
    workdir: Path
    base_sha: str


def ours(process: subprocess.Popen[str]) -> dict[str, list[str]]:
    """The containers this ``ctrlab c100v up`` started: other runs may share the engine."""
    return {"label": [f"{LABEL_BACKEND}=c100v", f"{LABEL_OWNER}={owner_label(process.pid)}"]}


def c100v_containers(process: subprocess.Popen[str]) -> list[str]:
    client = connect()
    try:
        return [c.name for c in client.containers.list(all=True, filters=ours(process))]
    finally:
        client.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    image = build_standin()
    workdir = tmp_path_factory.mktemp("c100v")
    testbed, output = workdir / "testbed.yaml", workdir / "up.log"
    with output.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "c100v", "up", "--image", str(image), "--testbed-out", str(testbed),
             "--hostname", HOSTNAME, "--memory", "256", "--boot-timeout", "600"],
            cwd=workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    run = Running(process, testbed, output, workdir, file_sha256(image))
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not testbed.exists():
            assert process.poll() is None, f"ctrlab c100v up exited {process.returncode}:\n{output.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no testbed after {READY_TIMEOUT_S} s:\n{output.read_text()[-3000:]}"
            time.sleep(0.5)  # polling the file to a deadline
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()


def test_the_testbed_drives_the_appliance_through_the_harness(running: Running) -> None:
    assert running.testbed.stat().st_mode & 0o777 == 0o600
    testbed = load_testbed(running.testbed, environ={"SSE_REGISTRATION_TOKEN": "placeholder"})
    device = testbed.devices["esa1"]
    assert device.model == "C100V" and device.hostname == HOSTNAME
    cli = device.connections.cli
    assert cli is not None and cli.host == "127.0.0.1"
    with AsyncOSCli(cli.host, cli.port, device.username, device.password, name="esa1", timeout=30,
                    host_trust=fetched(cli.port, "esa1")) as driver:
        assert "Model: C100V" in driver.run("version")
        assert driver.prompt == f"{HOSTNAME}> "  # the day-0 bootstrap set it and committed
    assert "ready in" in running.output.read_text()


def test_the_qcow2_is_mounted_read_only_on_host_networking(running: Running) -> None:
    client = connect()
    try:
        (container,) = client.containers.list(filters=ours(running.process))
        mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
        assert mounts["/images/c100v.qcow2"]["RW"] is False
        assert container.attrs["HostConfig"]["NetworkMode"] == "host"
        assert container.attrs["State"]["Health"]["Status"] == "healthy"
    finally:
        client.close()


def test_ctrl_c_twice_still_stops_cleanly_and_keeps_the_log(running: Running) -> None:
    assert c100v_containers(running.process), "the container should be running before the stop"
    running.process.send_signal(signal.SIGINT)
    running.process.send_signal(signal.SIGINT)  # the second one must not cut the clean-up short
    assert running.process.wait(STOP_TIMEOUT_S) == 0, running.output.read_text()[-3000:]
    assert c100v_containers(running.process) == []
    assert not running.testbed.exists(), "a stopped appliance's testbed names ports nothing listens on"
    log = (running.workdir / "reports" / "c100v-esa1.log").read_text()
    assert "bootstrap done" in log and "ironport" not in log.replace("ironport.example.com", "")
    assert file_sha256(build_standin()) == running.base_sha, "the base qcow2 was written"
