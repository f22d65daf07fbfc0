"""The day-0 bootstrap engine against the fake console (fake_console.py beside this file): fast, no qemu."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pytest

from virtual_appliances.c100v.bootstrap import Bootstrapper, GuestNetwork
from virtual_appliances.c100v.dialogs import DialogTable, table_from_yaml, table_to_yaml
from virtual_appliances.c100v.expect import BootstrapError, Expect, SerialConsole
from virtual_appliances.c100v.masking import MASK, MaskedStream, Masker

from .fake_console import FakeConsole

HOSTNAME = "esa1.lab.example"


class _Log(io.StringIO):
    def close(self) -> None:  # keep the text readable after MaskedStream.close()
        pass


async def _bootstrap(tmp_path: Path, fake: FakeConsole, *, password: str = "ironport", silence: float = 5.0,
                     max_restarts: int = 2, table: DialogTable | None = None,
                     budget: float = 20.0) -> tuple[str, Bootstrapper, str]:
    path = str(tmp_path / "console.sock")
    await fake.start(path)
    masker = Masker([password])
    sink = _Log()
    console = await SerialConsole.open_unix(path, MaskedStream(sink, masker))
    expect = Expect(console, masker, silence_timeout=silence, wake_interval=0.5)
    boot = Bootstrapper(expect, table or DialogTable(), GuestNetwork(HOSTNAME), "admin", password,
                        restart=fake.reboot, max_restarts=max_restarts)
    try:
        prompt = await boot.run(time.monotonic() + budget)
    finally:
        console.close()
        await fake.stop()
    return prompt, boot, sink.getvalue()


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_happy_path_configures_the_management_interface(tmp_path: Path) -> None:
    fake = FakeConsole()
    prompt, boot, log = run(_bootstrap(tmp_path, fake))
    assert prompt == f"{HOSTNAME}> "
    assert fake.committed.hostname == HOSTNAME
    assert (fake.committed.ip, fake.committed.prefix, fake.committed.gateway) == ("10.0.2.15", "24", "10.0.2.2")
    assert fake.committed.ssh and fake.committed.https and fake.committed.api
    assert fake.commands == ["sethostname", "interfaceconfig", "setgateway", "commit"]
    assert boot.restarts == 0
    assert "Changes committed" in log


def test_password_from_the_environment_is_masked_even_when_echoed(tmp_path: Path) -> None:
    secret = "S3cret-pa55word"
    fake = FakeConsole(password=secret, echo_password=True)
    _, _, log = run(_bootstrap(tmp_path, fake, password=secret))
    assert fake.committed.hostname == HOSTNAME
    assert secret not in log and MASK in log


def test_wrong_password_fails_at_login(tmp_path: Path) -> None:
    fake = FakeConsole(password="something-else")
    with pytest.raises(BootstrapError) as caught:
        run(_bootstrap(tmp_path, fake, password="ironport"))
    assert caught.value.step == "login"
    assert "refused the login as 'admin' 3 times" in str(caught.value)
    assert "Login incorrect" in str(caught.value)  # the console tail is quoted
    assert "ironport\n" not in caught.value.tail


def test_a_wake_cr_that_crossed_the_login_prompt_does_not_send_the_username_as_the_password(tmp_path: Path) -> None:
    fake = FakeConsole(crossed_wake=0.2)
    _, boot, log = run(_bootstrap(tmp_path, fake))
    assert fake.committed.hostname == HOSTNAME
    assert "Login incorrect" not in log
    assert boot.restarts == 0


def test_unknown_question_takes_the_default(tmp_path: Path) -> None:
    fake = FakeConsole(extra_question="Do you want to enable FTP on this interface?")
    run(_bootstrap(tmp_path, fake))
    assert fake.committed.extra_answer == "frobnicate"  # the fake's default
    assert fake.committed.hostname == HOSTNAME


def test_looping_question_fails_naming_the_step(tmp_path: Path) -> None:
    fake = FakeConsole(loop_question=True)
    with pytest.raises(BootstrapError) as caught:
        run(_bootstrap(tmp_path, fake))
    assert caught.value.step == "interfaceconfig"
    assert "IPv4 Address" in caught.value.reason and "loop" in caught.value.reason
    assert "[10.0.2.15]>" in caught.value.tail


def test_silent_console_restarts_the_vm_a_bounded_number_of_times(tmp_path: Path) -> None:
    fake = FakeConsole(silent_boots=1)
    _, boot, _ = run(_bootstrap(tmp_path, fake, silence=1.0))
    assert boot.restarts == 1 and fake.boots == 2
    assert fake.committed.hostname == HOSTNAME


def test_silent_console_gives_up_after_max_restarts(tmp_path: Path) -> None:
    fake = FakeConsole(silent_boots=99)
    started = time.monotonic()
    with pytest.raises(BootstrapError) as caught:
        run(_bootstrap(tmp_path, fake, silence=0.5, max_restarts=2))
    assert caught.value.step == "login"
    assert "gave up after 2 VM restart(s)" in str(caught.value)
    assert fake.boots == 3
    assert time.monotonic() - started < 10


def test_unknown_command_fails_naming_the_step(tmp_path: Path) -> None:
    text = table_to_yaml(DialogTable()).replace("command: setgateway", "command: setgw")
    with pytest.raises(BootstrapError) as caught:
        run(_bootstrap(tmp_path, FakeConsole(), table=table_from_yaml(text)))
    assert caught.value.step == "setgateway"
    assert "Unknown command" in str(caught.value)


def test_dialog_table_round_trips_through_yaml() -> None:
    table = DialogTable()
    again = table_from_yaml(table_to_yaml(table))
    assert again == table


def test_dialog_table_rejects_bad_regex_and_unknown_fields() -> None:
    with pytest.raises(ValueError, match="bad regex"):
        table_from_yaml("steps: [{name: x, command: x, answers: [{pattern: '(', answer: y}]}]")
    with pytest.raises(ValueError, match="bad template"):
        table_from_yaml("steps: [{name: x, command: '{nope}'}]")
    with pytest.raises(ValueError, match="steps\\[0\\]"):
        table_from_yaml("steps: [{name: x, command: x, colour: red}]")


def test_masked_stream_never_writes_a_split_secret() -> None:
    sink = _Log()
    stream = MaskedStream(sink, Masker(["hunter22"]))
    for chunk in ["pass: hun", "ter", "2", "2 ok hunt", "er2", "2", " end hu"]:
        stream.write(chunk)
    stream.close()
    assert "hunter22" not in sink.getvalue()
    assert sink.getvalue().startswith(f"pass: {MASK} ok {MASK} end")
