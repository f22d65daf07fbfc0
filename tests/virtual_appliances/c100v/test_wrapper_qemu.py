"""The wrapper end to end under real qemu: ``python -m virtual_appliances.c100v`` as a subprocess.

* Without any guest image: a blank qcow2 keeps the serial console silent, which must reset the VM a
  bounded number of times and then fail cleanly (health file, no qemu left, overlay removed).
* With the stand-in image (virtual_appliances/c100v/standin/, built once into ``$CTRLAB_CACHE`` or
  ``~/.cache/ctrlab/c100v/``): boot -> bootstrap -> healthy, then what a lab engineer relies on: the
  harness's CLI driver over the forwarded port, the testbed validating, the base image untouched,
  no password in console.log, the reset backdoor and a clean SIGTERM.

``QEMU_ACCEL`` (auto|kvm|tcg) is passed through; every wait polls to a deadline.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.appliance.asyncos_cli import AsyncOSCli
from harness.polling import poll_until
from tests.support.ssh_trust import fetched
from tests.support.standin import build_standin, file_sha256, free_port, unbuildable
from virtual_appliances.c100v.image import backing_file

ROOT = Path(__file__).resolve().parents[3]
HOSTNAME = "esa1.lab.example"
BOOT_DEADLINE_S = 420.0  # TCG on a slow machine, plus a KVM attempt that fails first

pytestmark = [
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None or shutil.which("qemu-img") is None,
                       reason="qemu-system-x86_64 / qemu-img not installed (Debian: qemu-system-x86 qemu-utils)"),
    pytest.mark.timeout(900),
]


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    work: Path
    health: Path
    testbed: Path
    reset: Path
    ports: dict[str, int]
    output: Path

    def health_line(self) -> str:
        try:
            return self.health.read_text().strip()
        except OSError:
            return ""

    def log(self) -> str:
        return self.output.read_text(errors="replace")[-4000:]


def start(tmp: Path, image: Path, *extra: str, env: dict[str, str] | None = None) -> Run:
    ports = {"ssh": free_port(), "https": free_port(), "api": free_port(), "smtp": free_port()}
    work, output = tmp / "work", tmp / "wrapper.out"
    command = [sys.executable, "-m", "virtual_appliances.c100v", "--image", str(image), "--name", "esa1",
               "--hostname", HOSTNAME, "--testbed-out", str(tmp / "lab" / "testbed.yaml"), "--work-dir", str(work),
               "--health-file", str(tmp / "health"), "--reset-file", str(tmp / "reset"), "--memory", "512",
               "--boot-timeout", str(BOOT_DEADLINE_S), *(f"--{k}-port={v}" for k, v in ports.items()), *extra]
    with output.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})})
    return Run(process, work, tmp / "health", tmp / "lab" / "testbed.yaml", tmp / "reset", ports, output)


def stop(run: Run) -> int:
    if run.process.poll() is None:
        run.process.send_signal(signal.SIGTERM)
    try:
        return run.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        run.process.kill()
        run.process.wait(timeout=10)
        raise


def qemu_running(work: Path) -> bool:
    result = subprocess.run(["pgrep", "-f", f"file={work}/esa1-overlay.qcow2"], capture_output=True, timeout=10)
    return result.returncode == 0


# ---- no guest at all -----------------------------------------------------------------------------
def test_silent_console_resets_then_fails_cleanly(tmp_path: Path) -> None:
    blank = tmp_path / "blank.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(blank), "16M"], check=True, timeout=30)
    run = start(tmp_path, blank, env={"C100V_SILENCE_TIMEOUT": "2", "C100V_MAX_RESTARTS": "1", "QEMU_ACCEL": "tcg"})
    try:
        status = run.process.wait(timeout=60)
    finally:
        stop(run)
    assert status == 1, run.log()
    assert run.health_line().startswith("1 failed: bootstrap step 'login' failed"), run.health_line()
    assert "gave up after 1 VM restart(s)" in run.health_line()
    assert "resetting the VM (monitor system_reset)" in run.log()
    assert not qemu_running(run.work) and not (run.work / "esa1-overlay.qcow2").exists()
    assert not run.testbed.exists()


def test_refuses_an_image_that_is_not_qcow2(tmp_path: Path) -> None:
    raw = tmp_path / "c100v.raw"
    raw.write_bytes(b"\0" * 65536)
    run = start(tmp_path, raw)
    assert run.process.wait(timeout=60) == 1
    assert "format is 'raw', not qcow2" in run.log()
    assert run.health_line().startswith("1 failed:")


# ---- the stand-in ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def standin_image() -> Path:
    reason = unbuildable()
    if reason:
        pytest.skip(reason)
    return build_standin()


@pytest.fixture(scope="module")
def booted(standin_image: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, str, float]]:
    tmp = tmp_path_factory.mktemp("c100v")
    base_hash = file_sha256(standin_image)
    started = time.monotonic()
    run = start(tmp, standin_image, env={"C100V_HEALTH_INTERVAL": "2"})
    try:
        def healthy() -> bool:
            if run.process.poll() is not None:
                raise AssertionError(f"the wrapper exited ({run.process.returncode}):\n{run.log()}")
            return run.health_line() == "0 running"

        poll_until(healthy, BOOT_DEADLINE_S + 30, describe="health '0 running'", interval=0.5)
        elapsed = time.monotonic() - started
        print(f"\nstand-in boot to healthy: {elapsed:.1f} s")
        yield run, base_hash, elapsed
    finally:
        stop(run)


def test_cli_answers_through_the_forwarded_port_with_the_new_hostname(booted: tuple[Run, str, float]) -> None:
    run, _, _ = booted
    with AsyncOSCli("127.0.0.1", run.ports["ssh"], "admin", "ironport", name="esa1", timeout=30,
                    host_trust=fetched(run.ports["ssh"], "esa1")) as cli:
        assert "Model: C100V" in cli.run("version")
        assert cli.prompt == f"{HOSTNAME}> "
        result = cli.exec("version")
        assert result.exit_status == 0 and "Model: C100V" in result.output


def test_testbed_is_private_and_validates(booted: tuple[Run, str, float]) -> None:
    run, _, _ = booted
    assert stat.S_IMODE(run.testbed.stat().st_mode) == 0o600
    result = subprocess.run([sys.executable, "-m", "harness.cli", "testbed", "validate", str(run.testbed)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "SSE_REGISTRATION_TOKEN": "placeholder"})
    assert result.returncode == 0, result.stdout + result.stderr
    text = run.testbed.read_text()
    assert f"port: {run.ports['ssh']}" in text and f"hostname: {HOSTNAME}" in text and "model: C100V" in text


def test_base_image_untouched_and_overlay_backed_by_it(standin_image: Path, booted: tuple[Run, str, float]) -> None:
    run, base_hash, _ = booted
    assert file_sha256(standin_image) == base_hash
    assert backing_file(run.work / "esa1-overlay.qcow2") == str(standin_image.resolve())


def test_console_log_holds_the_dialog_but_no_password(booted: tuple[Run, str, float]) -> None:
    run, _, _ = booted
    log = (run.work / "console.log").read_text(errors="replace")
    assert "Changes committed" in log and "login:" in log
    # The default password is also the first label of the factory hostname: only that use may remain.
    assert "ironport" not in log.replace("ironport.example.com", "")


def test_reset_backdoor_bootstraps_again(booted: tuple[Run, str, float]) -> None:
    run, _, _ = booted
    run.reset.touch()
    poll_until(lambda: run.health_line() != "0 running", 30, describe="the health file to leave '0 running'",
               interval=0.2)
    poll_until(lambda: run.health_line() == "0 running", BOOT_DEADLINE_S, describe="'0 running' after the reset",
               interval=0.5)
    assert not run.reset.exists()
    assert "reset requested" in run.log()


def test_sigterm_stops_qemu_and_cleans_up(booted: tuple[Run, str, float]) -> None:
    run, _, _ = booted
    assert qemu_running(run.work)
    assert stop(run) == 0, run.log()
    assert run.health_line() == "1 stopped"
    assert not qemu_running(run.work)
    assert not (run.work / "esa1-overlay.qcow2").exists()
    assert not run.testbed.exists()
    assert re.search(r"signal received: stopping", run.log())
