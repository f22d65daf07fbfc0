"""Seed 003's CLI transcripts, word for word and line for line, over a PTY shell (ENA-6, REG-3/4/5)."""

from __future__ import annotations

from datetime import datetime

from .support import DATE, TOKEN, CliLab, awaiting_token, registered

# "\x20" keeps the seed's trailing spaces visible (after "Use the", and the prompt answered with Enter).

ENABLE = """\
mail1.example.com> threatresponseconfig

Choose the operation you want to perform:
- ENABLE - To enable the Cisco Threat Response feature on your appliance.

[]> enable

The Cisco Threat Response feature is currently enabled on your appliance. Use the\x20
cloudserviceconfig command to register your appliance with the Cisco Threat
Response portal.

mail1.example.com> """

COMMIT = """\
mail1.example.com> commit

Please enter some comments describing your changes:
[]>\x20

Changes committed: <date>

mail1.example.com> """

DISABLE = """\
mail1.example.com> threatresponseconfig

Choose the operation you want to perform:
- DISABLE - To disable the Cisco Threat Response feature on your appliance.
[]> disable

The Cisco Threat Response feature is currently disabled on your appliance.

mail1.example.com> """

REGISTER = """\
mail1.example.com> cloudserviceconfig

Choose the operation you want to perform:

- REGISTER - To register the appliance with the Cisco Threat Response portal.
-SETTRS - Set the Threat Response Server to connect to the Cisco Threat Response portal.
[]> register

Enter a registration token key to register your appliance with the Cisco Threat
Response portal.
[]> de7c55f3ff0absdfsf4a25aae94dfb064642

The appliance registration is in progress.

mail1.example.com> """

# Seed 003 shows this menu once without and once with the "successfully registered" paragraph; a
# registered appliance prints the paragraph (REG-5). From "[]> settrs" on, the seed's text.
SETTRS = """\
mail1.example.com> cloudserviceconfig

The Content Security Management appliance is successfully registered with the
Cisco Threat Response portal.

Choose the operation you want to perform:
- DEREGISTER - To deregister the appliance from the Cisco Threat Response
portal.
-SETTRS - Set the Threat Response Server to connect to the Cisco Threat Response portal.
[]> settrs

Available list of Threat Response Servers:

1.
2. EUROPE (api.eu.sse.itd.cisco.com)
3.AMERICAS (api-sse.cisco.com)

Enter threat response server to connect to the Cisco Threat Response portal.:
[]> 2

Selected threat response server is api.eu.sse.itd.cisco.com.
Make sure you run "commit" to make these changes active.

mail1.example.com> """

DEREGISTER = """\
mail1.example.com> cloudserviceconfig

The Content Security Management appliance is successfully registered with the
Cisco Threat Response portal.

Choose the operation you want to perform:
- DEREGISTER - To deregister the appliance from the Cisco Threat Response
portal.
-SETTRS - Set the Threat Response Server to connect to the Cisco Threat Response portal.
[]> deregister

Do you want to deregister your appliance from the Cisco Threat Response portal.

If you deregister, you will not be able to access the Cloud Service features. [N]> yes

The Content Security Management appliance deregistration is in progress.

mail1.example.com> """


def commit_dialog(lab: CliLab, transcript: str, before: datetime) -> str:
    """The commit transcript with its date checked against the lab clock and replaced by <date>."""
    assert lab.commit_date_ok(transcript, before, lab.clock.now()), transcript
    return DATE.sub("<date>", transcript)


def test_enable_then_commit(sma: CliLab) -> None:
    with sma.shell() as shell:
        assert shell.dialog("threatresponseconfig", "enable") == ENABLE
        before = sma.clock.now()
        assert commit_dialog(sma, shell.dialog("commit", ""), before) == COMMIT
        # committed: the menu now offers DISABLE only
        assert "- DISABLE -" in shell.dialog("threatresponseconfig", "")


def test_disable_then_commit(sma: CliLab) -> None:
    awaiting_token(sma)
    with sma.shell() as shell:
        assert shell.dialog("threatresponseconfig", "disable") == DISABLE
        before = sma.clock.now()
        assert commit_dialog(sma, shell.dialog("commit", ""), before) == COMMIT
        assert shell.dialog("cloudserviceconfig status").endswith(
            "Enable the Cloud Services on your appliance to use the Cisco Threat Response portal.\n\n"
            "mail1.example.com> ")


def test_register(sma: CliLab) -> None:
    awaiting_token(sma)
    with sma.shell() as shell:
        assert shell.dialog("cloudserviceconfig", "register", TOKEN) == REGISTER


def test_register_on_the_esa_is_the_same_dialog(esa: CliLab) -> None:
    awaiting_token(esa)
    with esa.shell() as shell:
        assert shell.dialog("cloudserviceconfig", "register", TOKEN) == REGISTER


def test_settrs_then_commit(sma: CliLab) -> None:
    registered(sma)
    with sma.shell() as shell:
        assert shell.dialog("cloudserviceconfig", "settrs", "2") == SETTRS
        before = sma.clock.now()
        assert commit_dialog(sma, shell.dialog("commit", ""), before) == COMMIT


def test_deregister(sma: CliLab) -> None:
    registered(sma)
    with sma.shell() as shell:
        assert shell.dialog("cloudserviceconfig", "deregister", "yes") == DEREGISTER
        # deregistration is under way: the REGISTER menu again, and the status says so
        assert shell.dialog("cloudserviceconfig status") == (
            "mail1.example.com> cloudserviceconfig status\n\n"
            "The Content Security Management appliance deregistration is in progress.\n\n"
            "mail1.example.com> ")


def test_registered_paragraph_names_the_esa(esa: CliLab) -> None:
    registered(esa)
    with esa.shell() as shell:
        assert shell.dialog("cloudserviceconfig", "") == (
            "mail1.example.com> cloudserviceconfig\n\n"
            "The Email Security appliance is successfully registered with the\n"
            "Cisco Threat Response portal.\n\n"
            "Choose the operation you want to perform:\n"
            "- DEREGISTER - To deregister the appliance from the Cisco Threat Response\nportal.\n"
            "-SETTRS - Set the Threat Response Server to connect to the Cisco Threat Response portal.\n"
            "[]> \n"
            "mail1.example.com> ")
