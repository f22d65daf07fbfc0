"""The stand-in C100V image (virtual_appliances/c100v/standin/) against its contract, CONSOLE.md.

Builds the image once (cached across runs in ``$CTRLAB_CACHE`` or ``~/.cache/ctrlab/c100v/``), boots it
with qemu directly (not through the wrapper, whose mechanics this image exists to test), drives the
serial console through the whole day-0 dialog and then checks the network side: SSH with the harness's
CLI driver, TLS on 443/6443, the SMTP greeting. The tests of this module share one guest and run in
order (login, bootstrap, then what the bootstrap enables); every wait polls to a deadline.

``QEMU_ACCEL`` (auto|kvm|tcg, as the wrapper) picks the accelerator; auto = KVM when /dev/kvm is usable.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.appliance.asyncos_cli import AsyncOSCli
from harness.errors import AuthenticationFailed
from tests.support.ssh_trust import fetched
from tests.support.standin import BUILD, build_standin, file_sha256, free_port
from virtual_appliances.c100v.qemu import choose_accel

ROOT = Path(__file__).resolve().parents[3]
BOOT_TIMEOUT = 240.0  # to the login prompt; TCG on a slow CI machine is the worst case
STEP_TIMEOUT = 30.0  # one console answer
FACTORY_HOST = "ironport.example.com"
HOST = "esa1.lab.example"
KVM_FAILURE = "KVM internal error"  # qemu then pauses the guest: the console just goes silent

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the stand-in build needs root (apt-get, initramfs ownership)"),
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None or shutil.which("qemu-img") is None,
                       reason="qemu-system-x86_64 / qemu-img not installed (Debian: qemu-system-x86 qemu-utils)"),
    pytest.mark.skipif(shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None,
                       reason="the stand-in is built from Debian packages: needs apt-get and dpkg-deb"),
]


# ---- helpers ---------------------------------------------------------------------------------------
class Console:
    """The guest's first serial port (a unix socket): send lines with CR, wait for patterns."""

    def __init__(self, path: Path, deadline: float) -> None:
        self.transcript = ""  # everything received, for assertions and failure messages
        self._pending = ""  # received but not yet consumed by expect()
        self.sock = socket.socket(socket.AF_UNIX)
        while True:  # qemu creates the socket shortly after it starts
            try:
                self.sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                select.select([], [], [], 0.05)  # a short poll interval, not a wait for a condition
        self.sock.setblocking(False)

    def expect(self, pattern: str, timeout: float = STEP_TIMEOUT) -> re.Match[str]:
        """Read until ``pattern`` (a regex) matches what was received since the last match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            if m := regex.search(self._pending):
                self._pending = self._pending[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} on the console within {timeout:.0f}s; "
                                     f"last output:\n{self.transcript[-1500:]}")
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                data = self.sock.recv(65536)
                if not data:
                    raise AssertionError(f"console closed; last output:\n{self.transcript[-1500:]}")
                text = data.decode("utf-8", "replace")
                self.transcript += text
                self._pending += text

    def before(self, pattern: str, timeout: float = STEP_TIMEOUT) -> str:
        """expect(pattern) and return the text that came before the match."""
        start = len(self.transcript) - len(self._pending)
        m = self.expect(pattern, timeout)
        consumed = self.transcript[start:len(self.transcript) - len(self._pending)]
        return consumed[: len(consumed) - len(m.group(0))]

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r")  # a terminal's Enter; the guest's tty maps it (icrnl)

    def close(self) -> None:
        self.sock.close()


@dataclass
class Guest:
    console: Console
    process: subprocess.Popen[bytes]
    base: Path
    base_sha256: str
    ports: dict[int, int]  # guest port -> host port on 127.0.0.1
    accel: str
    boot_seconds: float
    login_at: int = 0  # where the first login prompt starts in the console transcript
    committed: bool = False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.console.close()

    def require_bootstrap(self) -> None:
        if not self.committed:
            pytest.fail("the day-0 bootstrap over the console did not complete (see test_day0_bootstrap)")


# ---- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def standin_image() -> Path:
    return build_standin()


@pytest.fixture(scope="module")
def guest(standin_image: Path) -> Iterator[Guest]:
    base_sha = file_sha256(standin_image)
    work = Path(tempfile.mkdtemp(prefix="c100v-standin-"))  # short: a unix socket path has a size limit
    overlay = work / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(standin_image), "-F", "qcow2",
                    str(overlay)], check=True, timeout=60)
    ports = {guest_port: free_port() for guest_port in (22, 443, 6443, 25)}
    forwards = ",".join(f"hostfwd=tcp:127.0.0.1:{host}-10.0.2.15:{port}" for port, host in ports.items())
    serial = work / "console.sock"
    accel = choose_accel(os.environ.get("QEMU_ACCEL", "auto"))  # the wrapper's own choice
    cmd = ["qemu-system-x86_64", "-accel", accel, "-m", "256", "-nographic", "-monitor", "none",
           "-no-user-config", "-serial", f"unix:{serial},server=on,wait=on",  # wait=on: no output is lost
           "-netdev", f"user,id=mgmt,{forwards}", "-device", "virtio-net-pci,netdev=mgmt",
           "-drive", f"file={overlay},if=virtio,format=qcow2"]
    qemu_log = work / "qemu.log"
    started = time.monotonic()
    with qemu_log.open("wb") as log:  # a file, not a pipe nobody reads: qemu must never block on stderr
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    console: Console | None = None
    try:
        console = Console(serial, started + 30)
        deadline = started + BOOT_TIMEOUT
        while True:  # wait for the login prompt in short slices, so a dead or stuck qemu fails the boot at once
            try:
                console.expect(rf"{re.escape(FACTORY_HOST)} login: $", min(2.0, max(0.1, deadline - time.monotonic())))
                break
            except AssertionError as exc:
                said = qemu_log.read_text(errors="replace")
                if process.poll() is not None or KVM_FAILURE in said or time.monotonic() >= deadline:
                    raise AssertionError(f"no login prompt ({accel}): {exc}\nqemu said: {said[-1500:]}") from None
        boot = time.monotonic() - started
        g = Guest(console, process, standin_image, base_sha, ports, accel, boot)
        g.login_at = console.transcript.rindex(f"{FACTORY_HOST} login: ")
        print(f"\nstand-in: login prompt {boot:.1f}s after qemu started ({accel})")
        yield g
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if console is not None:
            console.close()
        shutil.rmtree(work, ignore_errors=True)


# ---- the console -----------------------------------------------------------------------------------
def test_ssh_does_not_answer_before_commit(guest: Guest) -> None:
    # qemu accepts on the forwarded port itself; what matters is that no SSH server answers behind it.
    with socket.create_connection(("127.0.0.1", guest.ports[22]), timeout=10) as s:
        s.settimeout(5)
        try:
            data = s.recv(64)
        except (TimeoutError, ConnectionResetError):
            data = b""
    assert not data.startswith(b"SSH-"), f"an SSH server answered before the commit: {data!r}"


def test_wrong_password_is_refused(guest: Guest) -> None:
    c = guest.console
    c.send("admin")
    c.expect(r"Password: $")
    c.send("not-the-password")
    after = c.before(rf"{re.escape(FACTORY_HOST)} login: $")
    assert "Login incorrect" in after
    assert "not-the-password" not in c.transcript, "the password was echoed"


def test_day0_bootstrap(guest: Guest) -> None:
    c = guest.console
    c.send("admin")
    c.expect(r"Password: $")
    c.send("ironport")
    banner = c.before(rf"\r\n{re.escape(FACTORY_HOST)}> $")
    assert "ironport\r" not in banner, "the password was echoed"
    assert re.search(r"Last login: \w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4} from serial console\r\n", banner), banner
    assert "AsyncOS 13.0.0 for Cisco C100V build 392\r\n\r\n" in banner
    assert "Welcome to the Cisco C100V Email Security Virtual Appliance\r\n\r\n" in banner
    assert "NOTE: This session will expire if left idle for 1440 minutes." in banner
    prompt = rf"\r\n{re.escape(FACTORY_HOST)}> $"

    def command(line: str, *dialog: tuple[str, str]) -> str:
        """Send a command, answer each (expected question regex, answer) in turn; the text up to the prompt."""
        c.send(line)
        text = ""
        for question, answer in dialog:
            text += c.before(question) + "<Q>"
            c.send(answer)
        return text + c.before(prompt)

    assert "There is no data to commit." in command("commit")
    assert "Unknown command or missing feature key" in command("frobnicate")
    command("sethostname", (rf"\r\n\[{re.escape(FACTORY_HOST)}\]> $", HOST))
    # The questions exactly as CONSOLE.md words them, the defaults in brackets.
    menu = r"- DELETE - Remove an interface\.\r\n\[\]> $"
    dialog = command(
        "interfaceconfig",
        (menu, "EDIT"),
        (r"Enter the number of the interface you wish to edit\.\r\n\[\]> $", "1"),
        (r'IP interface name \(Ex: "InternalNet"\):\r\n\[Management\]> $', ""),
        (r"Would you like to configure an IPv4 address for this interface \(y/n\)\? \[Y\]> $", ""),
        (r"IPv4 Address \(Ex: 192\.168\.1\.2 \):\r\n\[192\.168\.42\.42\]> $", "10.0.2.15"),
        (r'Netmask \(Ex: "24", "255\.255\.255\.0" or "0xffffff00"\):\r\n\[0xffffff00\]> $', "24"),
        (r"Would you like to configure an IPv6 address for this interface \(y/n\)\? \[N\]> $", ""),
        (r"Ethernet interface:\r\n1\. Management\r\n\[1\]> $", ""),
        (rf"Hostname:\r\n\[{re.escape(FACTORY_HOST)}\]> $", HOST),
        (r"Do you want to enable SSH on this interface\? \[Y\]> $", ""),
        (r"Which port do you want to use for SSH\?\r\n\[22\]> $", ""),
        (r"Do you want to enable HTTPS on this interface\? \[Y\]> $", ""),
        (r"Which port do you want to use for HTTPS\?\r\n\[443\]> $", ""),
        (r"Do you want to enable AsyncOS API HTTPS on this interface\? \[N\]> $", "Y"),
        (r"Which port do you want to use for AsyncOS API HTTPS\?\r\n\[6443\]> $", ""),
        (r"Are you sure you want to change it\? \[Y\]> $", ""),
        (menu, ""),
    )
    assert "1. Management (192.168.42.42/24 on Management: ironport.example.com)" in dialog
    assert f"1. Management (10.0.2.15/24 on Management: {HOST})" in dialog
    command("setgateway", (r"Enter new default gateway:\r\n\[\]> $", "10.0.2.2"))
    # The hostname changes at commit, not before: the prompt above was still the factory one.
    c.send("commit")
    c.expect(r"\r\n\r\nPlease enter some comments describing your changes:\r\n\[\]> $")
    c.send("ctrlab day-0")
    c.expect(r"\r\nDo you want to save the current configuration for rollback\? \[Y\]> $")
    c.send("")
    done = c.before(rf"\r\n{re.escape(HOST)}> $", 60)
    assert re.search(r"Changes committed: \w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}", done), done
    guest.committed = True
    # CR LF on the console: from the first login prompt on, no bare LF.
    tail = guest.console.transcript[guest.login_at:]
    assert re.search(r"(?<!\r)\n", tail) is None, "a bare LF on the serial console"


# ---- what the commit enabled -------------------------------------------------------------------------
def test_ssh_cli_after_commit(guest: Guest) -> None:
    guest.require_bootstrap()
    # commit returns once the listeners are up (asyncos-apply), so no retry loop is needed here.
    cli = AsyncOSCli("127.0.0.1", guest.ports[22], "admin", "ironport", name="standin", timeout=30,
                     connect_timeout=15, connect_attempts=1, host_trust=fetched(guest.ports[22], "standin"))
    try:
        banner = cli.connect()
        assert cli.prompt == f"{HOST}> "
        assert re.search(r"Last login: .+ from \S+", banner), banner
        assert "Welcome to the Cisco C100V Email Security Virtual Appliance" in banner
        assert "Model: C100V" in cli.run("version")
        assert "There is no data to commit." in cli.commit("nothing")
        result = cli.exec("version; version", check=True)
        assert result.exit_status == 0
        assert result.output.count("Model: C100V") == 2
    finally:
        cli.close()


def test_ssh_refuses_wrong_password(guest: Guest) -> None:
    guest.require_bootstrap()
    cli = AsyncOSCli("127.0.0.1", guest.ports[22], "admin", "wrong", name="standin", timeout=30,
                     connect_timeout=15, connect_attempts=1, host_trust=fetched(guest.ports[22], "standin"))
    with pytest.raises(AuthenticationFailed):
        cli.connect()
    cli.close()


@pytest.mark.parametrize("port", [443, 6443])
def test_https(guest: Guest, port: int) -> None:
    guest.require_bootstrap()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the stand-in's certificate is self-signed
    conn = http.client.HTTPSConnection("127.0.0.1", guest.ports[port], timeout=20, context=context)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read().decode()
    finally:
        conn.close()
    assert response.status == 200
    assert "html" in response.getheader("Content-Type", "")
    assert HOST in body


def test_smtp_greeting(guest: Guest) -> None:
    guest.require_bootstrap()
    with socket.create_connection(("127.0.0.1", guest.ports[25]), timeout=20) as s:
        reader = s.makefile("rb")
        greeting = reader.readline()
        s.sendall(b"QUIT\r\n")
        bye = reader.readline()
    assert greeting == f"220 {HOST} ESMTP\r\n".encode()
    assert bye.startswith(b"221 ")


def test_console_exit_returns_to_login(guest: Guest) -> None:
    guest.require_bootstrap()
    guest.console.send("exit")
    guest.console.expect(rf"\r\n{re.escape(HOST)} login: $")


def test_commit_over_ssh_reaches_the_console(guest: Guest) -> None:
    guest.require_bootstrap()
    renamed = "esa2.lab.example"
    cli = AsyncOSCli("127.0.0.1", guest.ports[22], "admin", "ironport", name="standin", timeout=30,
                     connect_timeout=15, connect_attempts=1, host_trust=fetched(guest.ports[22], "standin"))
    try:
        cli.converse("sethostname", [renamed])
        assert "Changes committed:" in cli.commit("rename over SSH")
        # The session survives the commit (which restarts the SSH listener) and shows the new prompt.
        assert cli.prompt == f"{renamed}> "
        assert "Model: C100V" in cli.run("version")
    finally:
        cli.close()
    guest.console.send("")  # the console sits at the login prompt: a bare CR shows it again
    guest.console.expect(rf"\r\n{re.escape(renamed)} login: $")


def test_base_image_unchanged(guest: Guest) -> None:
    guest.stop()  # everything the guest wrote went to the overlay
    assert file_sha256(guest.base) == guest.base_sha256


def test_build_is_cached(standin_image: Path) -> None:
    started = time.monotonic()
    before = standin_image.stat().st_mtime_ns
    done = subprocess.run(["bash", str(BUILD), str(standin_image)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert standin_image.stat().st_mtime_ns == before, "an up-to-date image was rebuilt"
    assert "up to date" in done.stderr
    assert time.monotonic() - started < 30
