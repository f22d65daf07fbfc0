"""AsyncOSCli against a fake AsyncOS SSH server: the CLI conventions of reference/asyncos.md 1.x."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import asyncssh
import pytest

from harness.appliance.asyncos_cli import AsyncOSCli, Prompt, Secret, classify, normalize
from harness.errors import AuthenticationFailed, CliError, DriverTimeout, LabUnreachable
from harness.transcript import Transcript
from harness.trust import HostTrust
from tests.support.fake_asyncos import HOSTNAME, PASSWORD, FakeState, start_fake
from tests.support.loop import BackgroundLoop
from tests.support.servers import close_server
from tests.support.ssh_trust import trusting

ANY_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"  # nobody answers anyway


@pytest.fixture
def fake(bg: BackgroundLoop, host_key: asyncssh.SSHKey) -> Iterator[tuple[FakeState, int]]:
    state = FakeState()
    server = bg.run(start_fake(state, host_key))
    yield state, server.sockets[0].getsockname()[1]
    bg.run(close_server(server))


@pytest.fixture
def cli(fake: tuple[FakeState, int], host_key: asyncssh.SSHKey) -> Iterator[AsyncOSCli]:
    _, port = fake
    driver = AsyncOSCli("127.0.0.1", port, "admin", PASSWORD, name="fake1", timeout=5, connect_timeout=5,
                        host_trust=trusting(host_key, port, "fake1"))
    yield driver
    driver.close()


def test_login_learns_the_prompt_after_the_banner(cli: AsyncOSCli) -> None:
    banner = cli.connect()
    assert cli.prompt == f"{HOSTNAME}> "
    assert cli.mode == "standalone"
    assert "AsyncOS 13.0.0 for Cisco C100V build 392" in banner
    assert not banner.rstrip().endswith(">")


def test_run_returns_output_without_echo_or_prompt(cli: AsyncOSCli) -> None:
    out = cli.run("greaterthan")  # "> " inside output must not be mistaken for a prompt
    assert out.strip() == "a -> b\nx > y"


def test_pager_is_answered_with_a_space_and_removed(cli: AsyncOSCli) -> None:
    out = cli.run("version")
    assert "Press Any Key" not in out
    assert "Model: C100V\nVersion: 13.0.0-392" in out
    many = cli.run("longlist")
    lines = [line for line in many.splitlines() if line.startswith("entry")]
    assert lines == [f"entry {i}" for i in range(120)]
    assert many.strip().endswith("end of list")


def test_commit_answers_comment_and_rollback_question(cli: AsyncOSCli, fake: tuple[FakeState, int]) -> None:
    state, _ = fake
    text = cli.commit("enable threat response")
    assert "Changes committed: Mon Nov 19 10:04:35 2018 GMT" in text
    assert "save the current configuration for rollback? [Y]>" in text
    assert state.commits == ["enable threat response"]


def test_commit_without_rollback_question_on_older_releases(cli: AsyncOSCli, fake: tuple[FakeState, int]) -> None:
    state, _ = fake
    state.rollback_question = False
    text = cli.commit("")
    assert "Changes committed:" in text
    assert "rollback" not in text


def test_converse_answers_sub_prompts_in_order_and_masks_secrets(cli: AsyncOSCli) -> None:
    token = "de7c55f3ff0ab0dfdf4a25aae94dfb06"
    text = cli.converse("cloudserviceconfig", ["register", Secret(token)])
    assert "The appliance registration is in progress." in text
    assert "[]> register" in text
    rendered = cli.transcript.render()
    assert token not in rendered
    assert PASSWORD not in rendered
    assert "registration is in progress" in rendered


def test_yes_no_and_bare_prompts(cli: AsyncOSCli) -> None:
    assert "Deregistration is in progress." in cli.converse("deregister", ["yes"])
    assert "Profile lab created." in cli.converse("certname", ["lab"])


def test_unanswered_question_raises_and_abandons_the_dialog(cli: AsyncOSCli, fake: tuple[FakeState, int]) -> None:
    state, _ = fake
    with pytest.raises(CliError, match=r"\[N\]>"):
        cli.run("deregister")
    assert not cli.connected  # the session was dropped rather than answering for the caller
    assert cli.run("greaterthan")  # and the next call logs in again
    assert state.logins == 2


def test_left_over_answers_raise(cli: AsyncOSCli) -> None:
    with pytest.raises(CliError, match="unused"):
        cli.converse("certname", ["lab", "surplus"])


def test_unknown_command_raises_cli_error(cli: AsyncOSCli) -> None:
    with pytest.raises(CliError) as info:
        cli.run("uname -a")
    assert "Unknown command or missing feature key: uname -a" in info.value.output
    assert cli.run("greaterthan")  # the session is still usable


def test_cluster_mode_prompt_is_relearned(cli: AsyncOSCli) -> None:
    cli.connect()
    cli.run("clustermode cluster")
    assert cli.prompt == "(Cluster FakeCluster)> "
    assert cli.mode == "cluster"
    assert cli.run("greaterthan").strip().endswith("x > y")
    cli.run("clustermode machine")
    assert cli.prompt == f"(Machine {HOSTNAME})> "
    assert cli.mode == "machine"
    assert "Changes committed" in cli.commit("in machine mode")


def test_dropped_connection_raises_lab_unreachable_then_reconnects(cli: AsyncOSCli,
                                                                   fake: tuple[FakeState, int]) -> None:
    state, _ = fake
    cli.connect()
    with pytest.raises(LabUnreachable) as info:
        cli.run("drop")
    assert info.value.what == "fake1 CLI"
    assert "Working..." in str(info.value)
    assert not cli.connected
    assert "x > y" in cli.run("greaterthan")
    assert state.logins == 2


def test_a_session_closed_while_idle_is_reopened_transparently(cli: AsyncOSCli,
                                                               fake: tuple[FakeState, int]) -> None:
    state, _ = fake
    cli.run("logout-soon")
    shell = cli._shell
    assert shell is not None
    deadline = time.monotonic() + 5
    while shell.alive and time.monotonic() < deadline:  # poll to a deadline until the close arrives
        threading.Event().wait(0.01)
    assert "x > y" in cli.run("greaterthan")  # nothing was sent on the dead session: no error
    assert state.logins == 2


def test_no_prompt_in_time_raises_driver_timeout(cli: AsyncOSCli) -> None:
    with pytest.raises(DriverTimeout):
        cli.converse("hang", timeout=0.3)
    assert "x > y" in cli.run("greaterthan")


def test_wrong_password_raises_authentication_failed(fake: tuple[FakeState, int], host_key: asyncssh.SSHKey) -> None:
    _, port = fake
    driver = AsyncOSCli("127.0.0.1", port, "admin", "wrong-password", timeout=5, host_trust=trusting(host_key, port))
    with pytest.raises(AuthenticationFailed):
        driver.connect()
    assert "wrong-password" not in driver.transcript.render()


def test_nothing_listening_raises_lab_unreachable_after_bounded_attempts() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    driver = AsyncOSCli("127.0.0.1", port, "admin", "x", name="ghost", connect_attempts=2, connect_timeout=2,
                        host_trust=HostTrust("ghost", "127.0.0.1", port, (ANY_KEY,)))
    with pytest.raises(LabUnreachable) as info:
        driver.run("version")
    assert info.value.endpoint == f"127.0.0.1:{port}"


def test_error_texts_are_masked_too(cli: AsyncOSCli) -> None:
    token = "fedcba9876543210fedcba9876543210"
    cli.transcript.add_secret(token)
    with pytest.raises(CliError) as info:
        cli.exec(f"cloudregister {token}", check=True)  # the fake echoes the unknown command, token included
    assert token not in str(info.value)
    with pytest.raises(CliError) as info2:
        cli.run(f"nosuch {token}")
    assert token not in str(info2.value)


def test_exec_batch_returns_exit_status_and_output(cli: AsyncOSCli) -> None:
    status, out = cli.exec(["version", 'commit "batch"'])
    assert status == 0
    assert "Version: 13.0.0-392" in out and "Changes committed" in out
    bad = cli.exec("nosuchcommand")
    assert bad.exit_status == 1
    with pytest.raises(CliError):
        cli.exec("nosuchcommand", check=True)


def test_transcript_sink_and_mask_are_pluggable(fake: tuple[FakeState, int], host_key: asyncssh.SSHKey) -> None:
    _, port = fake
    seen = []
    transcript = Transcript("t", mask=lambda text: text.replace(HOSTNAME, "<host>"), sinks=[seen.append])
    with AsyncOSCli("127.0.0.1", port, "admin", PASSWORD, transcript=transcript, timeout=5,
                    host_trust=trusting(host_key, port)) as driver:
        driver.run("version")
    assert [e.kind for e in seen] == ["cli", "cli"]  # login, version
    assert HOSTNAME not in transcript.render()


@pytest.mark.parametrize(("buffer", "expected"), [
    ("x\r\nmail1.example.com> ", Prompt("mail1.example.com> ", True)),
    ("x\r\n(Machine esa1.example.com)> ", Prompt("(Machine esa1.example.com)> ", True)),
    ("x\r\n(Cluster Example.com-Cluster)> ", Prompt("(Cluster Example.com-Cluster)> ", True)),
    ("features. [N]> ", Prompt("features. [N]> ", False, "N")),
    ("\r\n[]> ", Prompt("[]> ", False, "")),
    ("rollback? [Y]> ", Prompt("rollback? [Y]> ", False, "Y")),
    ("choose\r\n[1]> ", Prompt("[1]> ", False, "1")),
    ("Enter a name:\r\n> ", Prompt("> ", False)),
    ("a -> b\r\nx > y", None),
    ("still printing", None),
])
def test_prompt_classification(buffer: str, expected: Prompt | None) -> None:
    assert classify(buffer, "mail1.example.com> ") == expected


def test_normalize_removes_pager_and_overwrites() -> None:
    raw = "a\r\nb\r\n-Press Any Key For More-\r                         \rc\r\n"
    assert normalize(raw) == "a\nb\nc\n"
