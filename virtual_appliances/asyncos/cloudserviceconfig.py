"""``cloudserviceconfig`` (REG-3, REG-4, REG-5, REG-9, REG-10) as a registry of operations.

Each operation (REGISTER, DEREGISTER, SETTRS, ...) is registered once here with its menu dialog, its
batch form and when it is offered. Which operations a release offers, in which order, and the menu line
of each come from the release record (``releases.py``); this module never asks which release it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import messages as msg
from .cli_dialogs import Dialog, choose, confirm, invalid, machine_mode
from .model import Appliance, ApplianceError, RegState

if TYPE_CHECKING:
    from .cli_commands import CliSession

Step = Generator[str, str, bool | None]
"""An operation's menu dialog: returns success, or None to show the cloudserviceconfig menu again."""


@dataclass(frozen=True)
class Operation:
    name: str  # as typed, lower case
    usage: str  # its batch form, for the usage line
    arity: tuple[int, int]  # (min, max) arguments of the batch form
    batch: Callable[[CliSession, list[str]], bool]
    dialog: Callable[[CliSession], Step] | None = None  # None: batch only (not in the menu)
    offered: Callable[[Appliance], bool] = lambda appliance: True  # shown in the menu in this state


OPERATIONS: dict[str, Operation] = {}


def operation(name: str, usage: str, arity: tuple[int, int], batch: Callable[[CliSession, list[str]], bool],
              offered: Callable[[Appliance], bool] | None = None) -> Callable[[Callable[[CliSession], Step]],
                                                                                 Callable[[CliSession], Step]]:
    """Register the decorated menu dialog as operation ``name``."""

    def register(dialog: Callable[[CliSession], Step]) -> Callable[[CliSession], Step]:
        _add(Operation(name, usage, arity, batch, dialog, offered or (lambda appliance: True)))
        return dialog

    return register


def _add(op: Operation) -> None:
    if op.name in OPERATIONS:
        raise ValueError(f"cloudserviceconfig operation {op.name!r} registered twice")
    OPERATIONS[op.name] = op


# ---- helpers ------------------------------------------------------------------------------------
def _product(appliance: Appliance) -> str:
    return appliance.spec.release.product_name


def _registered(appliance: Appliance) -> bool:
    return appliance.state is RegState.REGISTERED


def _server_list(appliance: Appliance) -> str:
    labels = {name: appliance.server_label(name) for name in ("AMERICAS", "EUROPE", "APJC")}
    lines = appliance.spec.release.server_list(labels)
    return f"\n{msg.CSC_SERVERS_TITLE}\n\n" + "\n".join(lines) + "\n\n"


def _server_choice(appliance: Appliance, answer: str) -> str | None:
    """A server by its number or its name; None for anything this appliance does not offer."""
    slots = appliance.spec.release.server_slots
    if answer.isdigit():
        number = int(answer)
        return slots[number - 1] if 1 <= number <= len(slots) else None
    name = answer.upper()
    return name if name in appliance.server_names() else None


def _not_ready(appliance: Appliance) -> str:
    state = appliance.state
    if state is RegState.IN_PROGRESS:
        return msg.CSC_REGISTRATION_IN_PROGRESS
    if state is RegState.DEREGISTERING:
        return msg.deregistering(_product(appliance))
    return msg.NOT_READY_FOR_TOKEN


# ---- REGISTER -----------------------------------------------------------------------------------
def _register_batch(cli: CliSession, args: list[str]) -> bool:
    cli.appliance.register(args[0])
    cli.say(f"\n{msg.CSC_REGISTRATION_IN_PROGRESS}\n")
    return True


@operation("register", "register <token>", (1, 1), _register_batch, offered=lambda a: not _registered(a))
def _register(cli: CliSession) -> Step:
    appliance = cli.appliance
    # TS-3 / ENA-5: until the enabling change is committed and the service is up, no token is asked.
    if not appliance.accepts_token:
        cli.say(f"\n{_not_ready(appliance)}\n")
        return False
    token = yield f"\n{msg.CSC_TOKEN_PROMPT}\n[]> "
    if not token:
        cli.say(f"\n{msg.EMPTY_TOKEN}\n")
        return False
    return _register_batch(cli, [token])


# ---- DEREGISTER ---------------------------------------------------------------------------------
def _deregister_batch(cli: CliSession, args: list[str]) -> bool:
    """The batch form is the confirmation."""
    cli.appliance.deregister()
    cli.say(f"\n{msg.deregistering(_product(cli.appliance))}\n")
    return True


@operation("deregister", "deregister", (0, 0), _deregister_batch, offered=_registered)
def _deregister(cli: CliSession) -> Step:
    if not (yield from confirm(f"\n{msg.CSC_DEREGISTER_CONFIRM}", False)):
        return True  # default No: nothing changes
    return _deregister_batch(cli, [])


# ---- SETTRS -------------------------------------------------------------------------------------
def _select_server(cli: CliSession, server: str) -> bool:
    region = cli.appliance.set_server(server)
    cli.staged()
    cli.say(f"\n{msg.server_selected(region.sse_api)}\n")
    return True


def _settrs_batch(cli: CliSession, args: list[str]) -> bool:
    server = _server_choice(cli.appliance, args[0])
    if server is None:
        raise ApplianceError(msg.SERVER_NOT_AVAILABLE)
    return _select_server(cli, server)


@operation("settrs", "settrs <server>", (1, 1), _settrs_batch)
def _settrs(cli: CliSession) -> Step:
    appliance = cli.appliance
    question = f"{_server_list(appliance)}{msg.CSC_SERVER_PROMPT}\n[]> "
    while True:
        answer = yield question
        if not answer:
            return None  # up one level, to the cloudserviceconfig menu
        server = _server_choice(appliance, answer)
        if server is not None:
            return _select_server(cli, server)


# ---- REREGISTER (REG-9) -------------------------------------------------------------------------
def _do_reregister(cli: CliSession, server: str | None, token: str | None) -> bool:
    appliance = cli.appliance
    if server == appliance.committed.server:
        server = None  # nothing to change, and so nothing for the model to commit
    appliance.reregister(server, token)
    if server:
        cli.settled()  # the model committed the server change, and everything pending with it
    cli.say(f"\n{msg.CSC_REREGISTRATION_IN_PROGRESS}\n")
    return True


def _reregister_batch(cli: CliSession, args: list[str]) -> bool:
    server = _server_choice(cli.appliance, args[0]) if args else None
    token_args = args[1:] if server is not None else args
    if len(token_args) > 1:
        return invalid(cli, usage(cli.appliance))
    return _do_reregister(cli, server, token_args[0] if token_args else None)


@operation("reregister", "reregister [<server>] [<token>]", (0, 2), _reregister_batch)
def _reregister(cli: CliSession) -> Step:
    """Optionally another server, optionally a token; without one, confirm first."""
    appliance = cli.appliance
    question = f"{_server_list(appliance)}{msg.CSC_REREGISTER_SERVER_PROMPT}\n[]> "
    server: str | None = None
    while True:
        answer = yield question
        if not answer:
            break  # keep the current server
        server = _server_choice(appliance, answer)
        if server is not None:
            break
    token = yield f"\n{msg.CSC_REREGISTER_TOKEN_PROMPT}\n[]> "
    if not token:
        question = f"\n{msg.REREGISTER_CONFIRM_TITLE}\n\n{msg.REREGISTER_CONFIRM_TEXT}"
        if not (yield from confirm(question, False)):
            return True
    return _do_reregister(cli, server, token or None)


# ---- STATUS (batch only) ------------------------------------------------------------------------
def _status_batch(cli: CliSession, args: list[str]) -> bool:
    appliance = cli.appliance
    state = appliance.state
    if state is RegState.REGISTERED:
        text = msg.cli_registered(_product(appliance))
    elif state is RegState.AWAITING_TOKEN:
        text = msg.NOT_REGISTERED  # the GUI shows a token field here, the CLI says it in words
    elif state is RegState.IN_PROGRESS:
        text = msg.CSC_REGISTRATION_IN_PROGRESS
    else:
        text = appliance.status_message()
    cli.say(f"\n{text}\n")
    return True


_add(Operation("status", "status", (0, 0), _status_batch))


# ---- the command --------------------------------------------------------------------------------
def usage(appliance: Appliance) -> str:
    verbs = appliance.spec.release.csc_verbs
    return "cloudserviceconfig " + " | ".join(OPERATIONS[v].usage for v in verbs)


def _menu(appliance: Appliance, offered: list[str]) -> str:
    items = "\n".join(appliance.spec.release.csc_items[name] for name in offered)
    if _registered(appliance):
        head = f"\n{msg.cli_registered(_product(appliance))}\n\n{msg.CLI_CHOOSE_OPERATION}\n"
    else:
        head = f"\n{msg.CLI_CHOOSE_OPERATION}\n\n"  # seed 003: an empty line under the title here
    return f"{head}{items}\n[]> "


def cloudserviceconfig(cli: CliSession, args: list[str]) -> Dialog:
    if args:
        return (yield from _batch(cli, args[0].lower(), args[1:]))
    if not (yield from machine_mode(cli, batch=False)):
        return False
    while True:
        appliance = cli.appliance
        offered = [name for name in appliance.spec.release.csc_operations if OPERATIONS[name].offered(appliance)]
        chosen = yield from choose(_menu(appliance, offered), offered)
        if chosen is None:
            return True
        dialog = OPERATIONS[chosen].dialog
        assert dialog is not None, f"{chosen} is in a release's menu but has no dialog"
        result = yield from dialog(cli)
        if result is not None:
            return result
        # None: the sub-dialog was left with an empty line; show this menu again


def _batch(cli: CliSession, verb: str, rest: list[str]) -> Dialog:
    op = OPERATIONS.get(verb) if verb in cli.appliance.spec.release.csc_verbs else None
    if op is None or not op.arity[0] <= len(rest) <= op.arity[1]:
        return invalid(cli, usage(cli.appliance))
    if not (yield from machine_mode(cli, batch=True)):
        return False
    return op.batch(cli, rest)


def check_releases() -> None:
    """Every operation a release names is registered, and those in a menu have a dialog."""
    from .releases import RELEASES

    for release in RELEASES:
        for name in release.csc_verbs:
            if name not in OPERATIONS:
                raise LookupError(f"release {release.key}: no cloudserviceconfig operation {name!r}")
        for name in release.csc_operations:
            if OPERATIONS[name].dialog is None:
                raise LookupError(f"release {release.key}: {name!r} has no menu dialog")


check_releases()
