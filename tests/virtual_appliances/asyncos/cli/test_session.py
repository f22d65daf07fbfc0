"""The interactive shell: banner, prompt, line endings, version, menus, sub-prompts, exit."""

from __future__ import annotations

import re

import asyncssh
import pytest

from virtual_appliances.asyncos import messages as msg

from .support import DATE, TOKEN, CliLab, awaiting_token, registered

NOTE = ("NOTE: This session will expire if left idle for 1440 minutes. Any uncommitted configuration changes "
        "will be lost. Commit the configuration changes as soon as they are made.")
P = "mail1.example.com> "
TRC_DISABLED_MENU = ("\nChoose the operation you want to perform:\n"
                     "- ENABLE - To enable the Cisco Threat Response feature on your appliance.\n\n[]> ")


def test_esa_banner_and_prompt(esa: CliLab) -> None:
    with esa.shell() as shell:
        assert shell.banner == (
            "AsyncOS 13.0.0 for Cisco C100V build 392\n\n"
            "Welcome to the Cisco C100V Email Security Virtual Appliance\n\n"
            f"{NOTE}\n\n{P}")


def test_sma_banner(sma: CliLab) -> None:
    with sma.shell() as shell:
        assert shell.banner.startswith(
            "AsyncOS 13.0.0 for Cisco M600V build 187\n\n"
            "Welcome to the Cisco M600V Content Security Management Virtual Appliance\n\n")


def test_pty_output_uses_crlf_and_echoes_input(esa: CliLab) -> None:
    with esa.shell() as shell:
        shell.dialog("version")
        assert "\r\n" in shell.raw
        assert not re.search(r"(?<!\r)\n", shell.raw), "a bare LF reached the terminal"
        assert f"{P}version\r\n" in shell.raw  # the line editor echoed what was typed


def test_shell_without_pty_has_no_echo_and_plain_lf(esa: CliLab) -> None:
    with esa.shell(term_type=None) as shell:
        text = shell.dialog("version")
        assert "\r" not in shell.raw
        assert text.startswith(f"{P}\nCurrent Version\n")  # nothing echoed: no terminal


def test_version(esa: CliLab) -> None:
    serial = esa.appliance.spec.serial
    with esa.shell() as shell:
        assert shell.dialog("version") == (
            f"{P}version\n\n"
            "Current Version\n===============\n"
            "Product: Cisco C100V Email Security Virtual Appliance\n"
            "Model: C100V\nVersion: 13.0.0-392\nBuild Date: 2019-11-14\nInstall Date: 2020-01-06 09:12:44\n"
            f"Serial #: {serial}\nBIOS: 6.00\nCPUs: 2 expected, 2 allocated\n"
            "Memory: 8192 MB expected, 8192 MB allocated\nRAID: NA\nRAID Status: Unknown\nRAID Type: NA\nBMC: NA\n\n"
            f"{P}")


def test_unknown_command_and_empty_line(esa: CliLab) -> None:
    with esa.shell() as shell:
        assert shell.dialog("uname -a") == f"{P}uname -a\n\nUnknown command or missing feature key: uname\n\n{P}"
        assert shell.dialog("") == f"{P}\n{P}"


def test_commands_and_choices_are_case_insensitive(esa: CliLab) -> None:
    with esa.shell() as shell:
        text = shell.dialog("ThreatResponseConfig", "ENABLE")
        assert "The Cisco Threat Response feature is currently enabled on your appliance." in text
        assert shell.dialog("VERSION").startswith(f"{P}VERSION\n\nCurrent Version\n")


def test_wrong_choice_shows_the_menu_again_and_empty_backs_out(esa: CliLab) -> None:
    with esa.shell() as shell:
        # DISABLE is not offered while disabled: it is as wrong as a typo
        assert shell.dialog("threatresponseconfig", "bogus", "disable", "") == (
            f"{P}threatresponseconfig\n{TRC_DISABLED_MENU}bogus\n{TRC_DISABLED_MENU}disable\n"
            f"{TRC_DISABLED_MENU}\n{P}")
        assert shell.dialog("commit") == f"{P}commit\n\nThere is no data to commit.\n\n{P}"


def test_empty_token_is_refused(esa: CliLab) -> None:
    awaiting_token(esa)
    with esa.shell() as shell:
        text = shell.dialog("cloudserviceconfig", "register", "")
        assert text.endswith("Response portal.\n[]> \n\nRegistration token cannot be empty.\n\n" + P)
        assert shell.dialog("cloudserviceconfig status") == (
            f"{P}cloudserviceconfig status\n\n{msg.NOT_REGISTERED}\n\n{P}")


def test_no_token_is_asked_before_the_enabling_change_is_committed(esa: CliLab) -> None:
    """TS-3 / ENA-5: enabled but not committed, REGISTER does not ask for a token."""
    with esa.shell() as shell:
        shell.dialog("threatresponseconfig enable")
        text = shell.dialog("cloudserviceconfig", "register")
        assert text.endswith(f"[]> register\n\n{msg.NOT_READY_FOR_TOKEN}\n\n{P}")
        assert "registration token key" not in text


def test_settrs_slot_one_is_empty_in_the_threat_response_era(esa: CliLab) -> None:
    servers = ("\nAvailable list of Threat Response Servers:\n\n1.\n2. EUROPE (api.eu.sse.itd.cisco.com)\n"
               "3.AMERICAS (api-sse.cisco.com)\n\n"
               "Enter threat response server to connect to the Cisco Threat Response portal.:\n[]> ")
    with esa.shell() as shell:
        text = shell.dialog("cloudserviceconfig", "settrs", "1", "apjc", "europe")
        assert text.endswith(
            f"[]> settrs\n{servers}1\n{servers}apjc\n{servers}europe\n\n"
            "Selected threat response server is api.eu.sse.itd.cisco.com.\n"
            'Make sure you run "commit" to make these changes active.\n\n' + P)


def test_empty_answer_at_settrs_goes_back_to_the_menu(esa: CliLab) -> None:
    with esa.shell() as shell:
        text = shell.dialog("cloudserviceconfig", "settrs", "", "")
        assert text.count("Choose the operation you want to perform:") == 2
        assert text.endswith(f"[]> \n{P}")
        assert shell.dialog("commit").endswith("There is no data to commit.\n\n" + P)


def test_securex_era_lists_apjc_and_asks_about_rollback(securex_esa: CliLab) -> None:
    lab = securex_esa
    with lab.shell() as shell:
        text = shell.dialog("cloudserviceconfig", "settrs", "1")
        assert ("\nAvailable list of Threat Response Servers:\n\n"
                "1. APJC (api.apj.sse.itd.cisco.com)\n2. EUROPE (api.eu.sse.itd.cisco.com)\n"
                "3. AMERICAS (api-sse.cisco.com)\n\n") in text
        assert "- REREGISTER - To reregister the appliance with the Cisco Cloud Services portal.\n" in text
        assert "Selected threat response server is api.apj.sse.itd.cisco.com." in text
        before = lab.clock.now()
        text = shell.dialog("commit", "apjc", "")
        assert lab.commit_date_ok(text, before, lab.clock.now())
        assert DATE.sub("<date>", text) == (
            f"{P}commit\n\nPlease enter some comments describing your changes:\n[]> apjc\n\n"
            "Do you want to save the current configuration for rollback? [Y]> \n\n"
            f"Changes committed: <date>\n\n{P}")


def test_reregister_without_token_asks_for_confirmation(securex_esa: CliLab) -> None:
    registered(securex_esa)
    confirm = f"\n{msg.REREGISTER_CONFIRM_TITLE}\n\n{msg.REREGISTER_CONFIRM_TEXT} [N]> "
    with securex_esa.shell() as shell:
        text = shell.dialog("cloudserviceconfig", "reregister", "", "", "")
        assert text.endswith(f"[]> \n{confirm}\n{P}")  # default No: nothing happens
        assert "successfully registered" in shell.dialog("cloudserviceconfig status")
        text = shell.dialog("cloudserviceconfig", "reregister", "", "", "y")
        assert text.endswith(f"{confirm}y\n\nThe appliance reregistration is in progress.\n\n{P}")


def test_reregister_with_token_asks_no_confirmation(securex_esa: CliLab) -> None:
    registered(securex_esa)
    with securex_esa.shell() as shell:
        text = shell.dialog("cloudserviceconfig", "reregister", "europe", TOKEN)
        assert msg.REREGISTER_CONFIRM_TITLE not in text
        assert text.endswith(f"[]> {TOKEN}\n\nThe appliance reregistration is in progress.\n\n{P}")
    # the server change was committed by the reregistration
    assert securex_esa.exec("cloudserviceconfig status").output == "\nThe appliance registration is in progress.\n\n"
    assert securex_esa.on_server(lambda: securex_esa.appliance.committed.server) == "EUROPE"


def test_deregister_defaults_to_no(sma: CliLab) -> None:
    registered(sma)
    with sma.shell() as shell:
        assert shell.dialog("cloudserviceconfig", "deregister", "").endswith(
            "features. [N]> \n" + P)
        assert shell.dialog("cloudserviceconfig", "deregister", "maybe").endswith(
            "features. [N]> maybe\n" + P)
        assert "successfully registered" in shell.dialog("cloudserviceconfig status")


def test_clear_abandons_pending_changes(esa: CliLab) -> None:
    with esa.shell() as shell:
        shell.dialog("threatresponseconfig enable")
        text = shell.dialog("clear", "")
        assert DATE.sub("<date>", text) == (
            f"{P}clear\n\nAre you sure you want to clear all changes since the last commit? [Y]> \n\n"
            f"Changes cleared: <date>\n\n{P}")
        assert shell.dialog("commit").endswith("There is no data to commit.\n\n" + P)
        shell.dialog("threatresponseconfig enable")
        assert shell.dialog("clearchanges", "n") == (
            f"{P}clearchanges\n\nAre you sure you want to clear all changes since the last commit? [Y]> n\n{P}")
        assert "Changes committed:" in shell.dialog("commit", "kept")


def test_exit_warns_about_uncommitted_changes_and_loses_them(esa: CliLab) -> None:
    with esa.shell() as shell:
        shell.dialog("threatresponseconfig enable")
        question = "\nYou have uncommitted changes. Are you sure you want to exit? [N]> "
        assert shell.dialog("exit", "") == f"{P}exit\n{question}\n{P}"  # default No: still here
        shell.type("quit\r")
        assert shell.read_prompt() == f"quit\n{question}"
        shell.type("y\r")
        assert shell.read_to_eof() == "y\n"  # then the session closes
    with esa.shell() as shell:  # the login NOTE's promise: uncommitted changes are lost
        assert shell.dialog("commit").endswith("There is no data to commit.\n\n" + P)


@pytest.mark.parametrize("command", ["exit", "quit", "q", "EXIT"])
def test_exit_without_changes_closes_at_once(esa: CliLab, command: str) -> None:
    with esa.shell() as shell:
        shell.type(command + "\r")
        assert shell.read_to_eof() == command + "\n"


def test_ctrl_d_closes_the_session(esa: CliLab) -> None:
    with esa.shell() as shell:
        shell.type("\x04")
        assert shell.read_to_eof() == ""


def test_ctrl_c_abandons_a_dialog(esa: CliLab) -> None:
    with esa.shell() as shell:
        shell.dialog("threatresponseconfig")
        shell.type("\x03")
        assert shell.read_prompt() == f"\n{P}"
        assert shell.dialog("commit").endswith("There is no data to commit.\n\n" + P)


def test_wrong_password_is_refused(esa: CliLab) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        esa.client(esa.connect(password="wrong"))
