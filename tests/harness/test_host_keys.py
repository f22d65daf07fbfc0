"""SSH host keys are verified on every connection to gear (issue 15 item 1): a mismatch is refused with
both fingerprints before any password is sent, a device without a recorded key is refused in one line,
``ctrlab testbed trust`` records what it showed, and a simulator lab's own testbed verifies."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import yaml

from harness import trust
from harness.appliance.asyncos_cli import AsyncOSCli
from harness.errors import HostKeyMismatch, HostKeyUnknown
from harness.provisioned_lab import Lab
from harness.report.masking import Masker
from harness.testbed import TestbedError, load_testbed
from harness.testbed.trust_cmd import trust as trust_command
from harness.trust import HostTrust, fingerprint, host_trust
from tests.support.fake_asyncos import PASSWORD, FakeState, start_fake
from tests.support.loop import BackgroundLoop
from tests.support.running_lab import running_lab
from tests.support.servers import close_server
from tests.support.ssh_trust import trusting

from .support import sample_testbed, write_testbed


@pytest.fixture(scope="module")
def bg() -> Iterator[BackgroundLoop]:
    loop = BackgroundLoop()
    yield loop
    loop.close()


@dataclass
class Server:
    port: int
    key: asyncssh.SSHKey
    state: FakeState = field(default_factory=FakeState)

    @property
    def line(self) -> str:
        return " ".join(self.key.export_public_key("openssh").decode().split()[:2])


@pytest.fixture
def server(bg: BackgroundLoop) -> Iterator[Server]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    state = FakeState()
    acceptor = bg.run(start_fake(state, key))
    yield Server(acceptor.sockets[0].getsockname()[1], key, state)
    bg.run(close_server(acceptor))  # on the server's own loop: asyncio servers are not thread-safe


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    yield
    trust.forget()


def other_key() -> str:
    return " ".join(asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode().split()[:2])


def test_a_mismatched_host_key_is_refused_with_both_fingerprints_and_no_password(server: Server) -> None:
    recorded = other_key()
    driver = AsyncOSCli("127.0.0.1", server.port, "admin", PASSWORD, name="esa1", timeout=5, connect_timeout=5,
                        host_trust=HostTrust("esa1", "127.0.0.1", server.port, (recorded,)))
    with pytest.raises(HostKeyMismatch) as info:
        driver.connect()
    message = str(info.value)
    assert message.startswith(f"esa1: SSH host key mismatch at 127.0.0.1:{server.port}: ")
    assert fingerprint(recorded) in message and fingerprint(server.line) in message
    assert "\n" not in message
    assert server.state.logins == 0 and not server.state.sessions  # refused before authentication


def test_a_device_without_a_recorded_key_is_refused_in_one_line(server: Server) -> None:
    driver = AsyncOSCli("127.0.0.1", server.port, "admin", PASSWORD, name="esa1", timeout=5, connect_timeout=5)
    with pytest.raises(HostKeyUnknown) as info:
        driver.connect()
    assert str(info.value) == (f"esa1: no SSH host key recorded for 127.0.0.1:{server.port} in the testbed: run "
                               "`ctrlab testbed trust PATH` to check and record it")
    assert not server.state.sessions


def test_the_recorded_key_connects(server: Server) -> None:
    with AsyncOSCli("127.0.0.1", server.port, "admin", PASSWORD, name="esa1", timeout=5,
                    host_trust=trusting(server.key, server.port, "esa1")) as driver:
        assert driver.prompt.endswith("> ")


def make_testbed(server: Server, tmp_path: Path, **testbed_info: Any) -> Path:
    data = sample_testbed()
    data["devices"]["esa1"]["connections"]["cli"]["port"] = server.port
    data["testbed"].update(testbed_info)
    text = "# a comment trust does not keep\n" + yaml.safe_dump(data, sort_keys=False)
    return write_testbed(tmp_path / "tb.yaml", text)


def test_a_lab_testbed_without_keys_refuses_and_names_the_trust_command(server: Server, tmp_path: Path) -> None:
    path = make_testbed(server, tmp_path)
    Lab(load_testbed(path), "lab", Masker())
    with pytest.raises(HostKeyUnknown) as info:
        AsyncOSCli("127.0.0.1", server.port, "admin", PASSWORD, name="esa1", timeout=5).connect()
    assert f"run `ctrlab testbed trust {path}`" in str(info.value)


def test_trust_shows_the_fingerprint_records_it_and_then_connects(server: Server, tmp_path: Path) -> None:
    path = make_testbed(server, tmp_path)
    out = io.StringIO()
    assert trust_command(str(path), yes=True, stdin=io.StringIO(), out=out) == 0
    assert f"esa1 127.0.0.1:{server.port}: ssh-ed25519 {fingerprint(server.line)}" in out.getvalue()
    testbed = load_testbed(path)
    assert testbed.devices["esa1"].connections.cli.host_keys == [server.line]  # type: ignore[union-attr]
    assert testbed.devices["esa1"].password == sample_testbed()["testbed"]["credentials"]["default"]["password"]
    Lab(testbed, "lab", Masker())  # registers the keys, as provisioning does
    with AsyncOSCli("127.0.0.1", server.port, "admin", PASSWORD, name="esa1", timeout=5) as driver:
        assert driver.prompt.endswith("> ")


def test_trust_into_a_known_hosts_file(server: Server, tmp_path: Path) -> None:
    path = make_testbed(server, tmp_path, known_hosts="known_hosts")
    assert trust_command(str(path), device="esa1", yes=True, stdin=io.StringIO(), out=io.StringIO()) == 0
    assert (tmp_path / "known_hosts").read_text() == f"[127.0.0.1]:{server.port} {server.line}\n"
    testbed = load_testbed(path)
    assert "host_keys" not in path.read_text()  # the testbed file itself is untouched
    with AsyncOSCli("127.0.0.1", server.port, "admin", PASSWORD, name="esa1", timeout=5,
                    host_trust=host_trust(testbed, "esa1")) as driver:
        assert driver.prompt.endswith("> ")


def test_trust_without_a_terminal_needs_yes(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_testbed(server, tmp_path)
    before = path.read_text()
    assert trust_command(str(path), stdin=io.StringIO(), out=io.StringIO()) == 1
    assert "stdin is not a terminal" in capsys.readouterr().err
    assert path.read_text() == before


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_trust_on_a_terminal_records_only_what_was_confirmed(server: Server, tmp_path: Path) -> None:
    path = make_testbed(server, tmp_path)
    out = io.StringIO()
    assert trust_command(str(path), stdin=Tty("n\n"), out=out) == 1
    assert "record this key for esa1? [y/N]" in out.getvalue() and "host_keys" not in path.read_text()
    assert trust_command(str(path), stdin=Tty("y\n"), out=io.StringIO()) == 0
    assert server.line in path.read_text()


def test_a_bad_host_key_line_in_the_testbed_is_one_clear_line(tmp_path: Path) -> None:
    data = sample_testbed()
    data["devices"]["esa1"]["connections"]["cli"]["host_keys"] = ["ssh-ed25519 not-base64!"]
    with pytest.raises(TestbedError) as info:
        load_testbed(write_testbed(tmp_path / "tb.yaml", data))
    assert str(info.value).startswith(f"{tmp_path / 'tb.yaml'}: devices.esa1.connections.cli.host_keys.0: must be an "
                                      "SSH public key line")


@pytest.mark.timeout(120)
def test_a_simulator_lab_writes_its_host_keys_and_they_verify(tmp_path: Path) -> None:
    with running_lab(tmp_path, "--appliances", "1") as data:
        path = tmp_path / "testbed.yaml"
        testbed = load_testbed(path)
        cli = testbed.devices["esa1"].connections.cli
        assert cli is not None and cli.host_keys and cli.host_keys[0].startswith("ssh-ed25519 ")
        Lab(testbed, "sim", Masker())
        password = data["devices"]["esa1"]["credentials"]["default"]["password"]
        with AsyncOSCli(cli.host, cli.port, "admin", password, name="esa1", timeout=10) as driver:
            assert "esa1" in driver.prompt
        # The same lab behind a testbed recording another key: refused, whatever the simulator block says.
        forged = HostTrust("esa1", cli.host, cli.port, (other_key(),))
        with pytest.raises(HostKeyMismatch):
            AsyncOSCli(cli.host, cli.port, "admin", password, name="esa1", timeout=10, host_trust=forged).connect()


def test_ctrlab_testbed_trust_is_wired(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main

    path = make_testbed(server, tmp_path)
    assert main(["testbed", "trust", str(path), "--device", "esa1", "--yes"]) == 0
    assert f"esa1: recorded in {path} (devices.esa1.connections.cli.host_keys)" in capsys.readouterr().out
    assert main(["testbed", "trust", str(path), "--device", "nope", "--yes"]) == 1
    assert "devices: no device named 'nope'" in capsys.readouterr().err
