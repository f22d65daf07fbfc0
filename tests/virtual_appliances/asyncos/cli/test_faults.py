"""Injected faults and clients that misbehave: the server stays healthy."""

from __future__ import annotations

import asyncssh
import pytest

from virtual_appliances.asyncos import messages as msg

from .support import CliLab, ExecResult, poll

P = "mail1.example.com> "


def set_fault(lab: CliLab, name: str, value: object) -> None:
    lab.on_server(lambda: setattr(lab.appliance.faults, name, value))


def test_drop_right_after_login(esa: CliLab) -> None:
    set_fault(esa, "drop_ssh_after", 0)
    with pytest.raises((asyncssh.Error, OSError, ConnectionError)):
        esa.shell()
    with esa.shell() as shell:  # the fault was consumed by that one connection
        assert shell.dialog("version").startswith(f"{P}version\n\nCurrent Version\n")


def test_drop_after_n_commands(esa: CliLab) -> None:
    set_fault(esa, "drop_ssh_after", 2)
    with esa.shell() as shell:
        assert shell.dialog("version").endswith(f"BMC: NA\n\n{P}")
        shell.type("version\r")
        # the second command's output, then the connection is gone: no prompt follows
        assert shell.read_to_eof().endswith("BMC: NA\n\n")
    assert esa.exec("version").status == 0


def test_drop_counts_exec_commands_too(esa: CliLab) -> None:
    set_fault(esa, "drop_ssh_after", 1)
    result = esa.exec("threatresponseconfig enable; commit")
    assert result.status is None  # no exit status: the connection was cut
    assert result.output == f"\n{msg.TRC_ENABLED}\n\n"
    assert esa.exec("commit").output == "\nThere is no data to commit.\n\n"


def test_slow_replies(esa: CliLab) -> None:
    set_fault(esa, "slow_reply_ms", 300)
    with esa.shell() as shell:
        text, elapsed = shell.timed_dialog("version")
        assert text.endswith(f"BMC: NA\n\n{P}")
        assert elapsed >= 0.3


def test_refused_commit(esa: CliLab) -> None:
    set_fault(esa, "refuse_commit", True)
    assert esa.exec('threatresponseconfig enable; commit "x"') == ExecResult(
        1, f"\n{msg.TRC_ENABLED}\n\n\n{msg.COMMIT_REFUSED}\n\n")


def test_a_client_vanishing_mid_dialog_leaves_the_server_healthy(esa: CliLab) -> None:
    baseline = esa.server_tasks()
    for _ in range(3):
        shell = esa.shell()
        shell.dialog("threatresponseconfig enable")
        assert shell.dialog("cloudserviceconfig").endswith("[]> ")  # waiting in a menu
        shell.abort()
    poll(lambda: esa.server_tasks() <= baseline, what="the server's session tasks ended")
    with esa.shell() as shell:  # a new connection works, and the vanished sessions' changes are gone
        assert shell.dialog("commit") == f"{P}commit\n\nThere is no data to commit.\n\n{P}"
