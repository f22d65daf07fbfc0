"""The appliance's cloud service state as the documented CLI shows it, for scenarios that drive only the CLI.

Seed 003 gives the CLI no status page; the state shows in the dialogs themselves (ENA-6, REG-3, REG-5):

* ``threatresponseconfig`` offers only the operation that applies: ENABLE while disabled, DISABLE while enabled;
* ``cloudserviceconfig`` on a registered appliance opens with "... is successfully registered with the Cisco
  Threat Response portal." and offers DEREGISTER; otherwise it offers REGISTER;
* REGISTER asks "Enter a registration token key ..." once the appliance is ready for a token, and otherwise says
  why not (the registration "is in progress", or the service is not ready).

Each look backs out of the dialog with empty answers, so reading changes nothing. The view has the attributes of
:class:`~harness.appliance.cloud_page.CloudSettingsView` that the steps read, so a step waits on either alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import CliError
from ..facts import REGISTERED
from .asyncos_cli import AsyncOSCli

CHOOSE = "Choose the operation you want to perform:"  # seed 003
TOKEN_PROMPT = "Enter a registration token key"  # seed 003, REG-3
IN_PROGRESS = "registration is in progress"  # seed 003, REG-3
DEREGISTERING = "deregistration is in progress"  # seed 003, REG-5
_MENU_ITEM = re.compile(r"^\s*-\s*([A-Z][A-Z]+)\s+-", re.MULTILINE)


def _flat(text: str) -> str:
    return " ".join(text.split())


def menu_operations(output: str) -> list[str]:
    """The items of the last "Choose the operation you want to perform:" menu (``- NAME - ...``)."""
    last = output.rfind(CHOOSE)
    return _MENU_ITEM.findall(output[last:] if last >= 0 else output)


def _converse(cli: AsyncOSCli, command: str, answers: list[str]) -> str:
    try:
        return cli.converse(command, answers)
    except CliError as exc:  # answers left over when a dialog ends early: its output is what we read
        return exc.output


@dataclass(frozen=True)
class CloudCliView:
    """What the CLI dialogs show; ``after_register`` is whether the scenario has submitted a token."""

    operations_trc: list[str]
    operations_csc: list[str]
    registered_line: str
    register_answer: str
    after_register: bool = False
    text: str = field(default="", repr=False)

    @property
    def enabled(self) -> str:
        if "DISABLE" in self.operations_trc:
            return "Enabled"
        return "Disabled" if "ENABLE" in self.operations_trc else ""

    @property
    def is_enabled(self) -> bool:
        return self.enabled == "Enabled"

    server = ""  # the CLI shows the chosen server only when SETTRS sets it
    server_choice = None
    region = None
    deregister_button = False

    @property
    def status(self) -> str:
        return self.registered_line or self.register_answer

    @property
    def registered(self) -> bool:
        return REGISTERED in self.registered_line

    @property
    def token_field(self) -> bool:
        return TOKEN_PROMPT.lower() in self.register_answer.lower()

    @property
    def in_progress(self) -> bool:
        flat = self.register_answer.lower()
        return IN_PROGRESS in flat or DEREGISTERING in flat

    @property
    def failed(self) -> bool:
        """A submitted token that did not register: the appliance asks for a token again (the CLI has no
        failure message of its own in the documents)."""
        return self.after_register and self.token_field and not self.registered

    def describe(self) -> str:
        return (f"threatresponseconfig offers {self.operations_trc or '(nothing)'}; cloudserviceconfig offers "
                f"{self.operations_csc or '(nothing)'}; {self.status or '(no status line)'}")


def read_cloud_cli(cli: AsyncOSCli, after_register: bool = False) -> CloudCliView:
    trc = _converse(cli, "threatresponseconfig", [""])
    csc = _converse(cli, "cloudserviceconfig", [""])
    operations = menu_operations(csc)
    flat = _flat(csc)
    registered_line = ""
    m = re.search(r"The [^.]*? is successfully registered with the Cisco Threat Response portal\.", flat)
    if m:
        registered_line = m.group(0)
    answer = ""
    if "REGISTER" in operations:
        answer = _flat(_converse(cli, "cloudserviceconfig", ["REGISTER", ""]))
        answer = answer[answer.find("REGISTER") + len("REGISTER"):] if "REGISTER" in answer else answer
    elif not operations:
        answer = flat  # no menu at all: what the appliance said instead (deregistering, refused, ...)
    return CloudCliView(operations_trc=menu_operations(trc), operations_csc=operations,
                        registered_line=registered_line, register_answer=answer.strip(),
                        after_register=after_register, text=f"{trc}\n{csc}")
