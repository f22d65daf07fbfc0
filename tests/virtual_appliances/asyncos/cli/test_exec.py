"""SSH exec: ``ssh admin@host "cmd1; cmd2"`` runs batch commands; the exit status says if all went well."""

from __future__ import annotations

from virtual_appliances.asyncos import messages as msg

from .support import DATE, TOKEN, CliLab, ExecResult, awaiting_token, registered

ENABLED = msg.TRC_ENABLED


def test_enable_and_commit_in_one_batch(esa: CliLab) -> None:
    result = esa.exec('threatresponseconfig enable; commit "enable the integration"')
    assert result.status == 0
    assert DATE.sub("<date>", result.output) == f"\n{ENABLED}\n\n\nChanges committed: <date>\n\n"
    assert esa.exec("threatresponseconfig disable").output == f"\n{msg.TRC_DISABLED}\n\n"


def test_a_semicolon_inside_quotes_is_part_of_the_comment(securex_esa: CliLab) -> None:
    result = securex_esa.exec('threatresponseconfig enable;commit "one; two" Y')
    assert result.status == 0, result
    assert securex_esa.on_server(lambda: securex_esa.appliance.last_commit_comment) == "one; two"


def test_the_batch_stops_at_the_first_failure(esa: CliLab) -> None:
    result = esa.exec("uname -a; threatresponseconfig enable")
    assert result == ExecResult(1, "\nUnknown command or missing feature key: uname\n\n")
    assert esa.exec("commit").output == "\nThere is no data to commit.\n\n"


def test_changes_of_an_exec_session_end_with_it(esa: CliLab) -> None:
    """Each SSH session stages its own changes; uncommitted, they are lost when it ends."""
    assert esa.exec("threatresponseconfig enable").status == 0
    assert esa.exec("commit").output == "\nThere is no data to commit.\n\n"


def test_batch_register_status_settrs_deregister(sma: CliLab) -> None:
    awaiting_token(sma)
    assert sma.exec("cloudserviceconfig status") == ExecResult(0, f"\n{msg.NOT_REGISTERED}\n\n")
    assert sma.exec(f"cloudserviceconfig register {TOKEN}") == ExecResult(
        0, "\nThe appliance registration is in progress.\n\n")
    assert sma.exec("cloudserviceconfig status").output == "\nThe appliance registration is in progress.\n\n"
    sma.on_server(lambda: sma.appliance.connector_result("register", True, device_id="d-1"))
    assert sma.exec("cloudserviceconfig status").output == (
        "\nThe Content Security Management appliance is successfully registered with the\n"
        "Cisco Threat Response portal.\n\n")
    result = sma.exec('cloudserviceconfig settrs EUROPE; commit "eu"')
    assert result.status == 0
    assert result.output.startswith(
        "\nSelected threat response server is api.eu.sse.itd.cisco.com.\n"
        'Make sure you run "commit" to make these changes active.\n\n\nChanges committed: ')
    assert sma.exec("cloudserviceconfig deregister") == ExecResult(
        0, "\nThe Content Security Management appliance deregistration is in progress.\n\n")


def test_batch_settrs_by_number(esa: CliLab) -> None:
    assert esa.exec("cloudserviceconfig settrs 3").output.startswith(
        "\nSelected threat response server is api-sse.cisco.com.\n")
    assert esa.exec("cloudserviceconfig settrs 1") == ExecResult(1, f"\n{msg.SERVER_NOT_AVAILABLE}\n\n")
    assert esa.exec("cloudserviceconfig settrs APJC").status == 1


def test_batch_refusals_have_a_non_zero_status(esa: CliLab) -> None:
    assert esa.exec(f"cloudserviceconfig register {TOKEN}") == ExecResult(1, f"\n{msg.NOT_READY_FOR_TOKEN}\n\n")
    assert esa.exec("cloudserviceconfig deregister") == ExecResult(1, f"\n{msg.NOT_REGISTERED}\n\n")
    usage = msg.invalid_arguments("threatresponseconfig enable | disable")
    assert esa.exec("threatresponseconfig on") == ExecResult(1, f"\n{usage}\n\n")
    assert esa.exec("cloudserviceconfig reregister").status == 1  # REREGISTER came with the SecureX era
    assert esa.exec('commit "unbalanced').status == 1


def test_batch_reregister(securex_esa: CliLab) -> None:
    registered(securex_esa)
    assert securex_esa.exec(f"cloudserviceconfig reregister AMERICAS {TOKEN}") == ExecResult(
        0, "\nThe appliance reregistration is in progress.\n\n")
    securex_esa.on_server(lambda: securex_esa.appliance.connector_result("reregister", True, device_id="d-2"))
    assert securex_esa.exec("cloudserviceconfig reregister").status == 0  # the batch is the confirmation
    securex_esa.on_server(lambda: setattr(securex_esa.appliance.lab, "smart_licensing", False))
    assert securex_esa.exec("cloudserviceconfig reregister") == ExecResult(
        1, f"\n{msg.REREGISTER_NEEDS_SMART_LICENSING}\n\n")


def test_questions_of_an_exec_command_are_answered_from_stdin(esa: CliLab) -> None:
    result = esa.exec("threatresponseconfig", stdin="enable\n")
    assert result == ExecResult(0, (
        "\nChoose the operation you want to perform:\n"
        "- ENABLE - To enable the Cisco Threat Response feature on your appliance.\n\n[]> "
        f"\n{ENABLED}\n\n"))


def test_an_unanswered_question_fails_the_batch(esa: CliLab) -> None:
    result = esa.exec("threatresponseconfig enable; commit")  # stdin is closed: no comment comes
    assert result.status == 1
    assert result.output.endswith("\nPlease enter some comments describing your changes:\n[]> ")
    assert esa.exec("commit").output == "\nThere is no data to commit.\n\n"


def test_version_and_exit_in_a_batch(esa: CliLab) -> None:
    result = esa.exec("version; exit; version")
    assert result.status == 0
    assert result.output.count("Current Version") == 1
