"""The AsyncOS CLI dialogs as a line-driven state machine, with no I/O of its own.

A command is a generator: it yields a question (the text to show, ending with its sub-prompt such as
``[]> ``), receives the line typed in answer, and returns whether it succeeded. :class:`CliSession`
feeds it lines. The SSH layer (``ssh_cli.py``) only moves lines and text, so an interactive shell and
an SSH exec batch (``cmd1; cmd2``) run the same dialogs. A command given arguments (the batch format,
``threatresponseconfig enable``) takes its answers from them and asks nothing.

What the CLI prints follows seed 003 word for word, line breaks included; every string is in
``messages.py``. Layout: a command's output starts with an empty line and is followed by one before
the next main prompt, as in the seed's transcripts.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import datetime

from . import messages as msg
from .cli_dialogs import Dialog, choose, confirm, invalid, machine_mode
from .cloudserviceconfig import cloudserviceconfig
from .model import Appliance, ApplianceError

Command = Callable[["CliSession", list[str]], "Dialog | bool"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TRC_USAGE = "threatresponseconfig enable | disable"
_CLUSTERMODE_USAGE = "clustermode cluster | group [<name>] | machine [<name>]"
_CLUSTERCONFIG_USAGE = "clusterconfig join <host> <user> <password> <group> | new <cluster name>"


def cli_date(when: datetime) -> str:
    """``Mon Nov 19 10:04:35 2018 GMT`` (seed 003); English names whatever the process locale."""
    return f"{_DAYS[when.weekday()]} {_MONTHS[when.month - 1]} {when:%d %H:%M:%S %Y} GMT"


def banner(appliance: Appliance) -> str:
    """What a real C100V prints after login (reference/asyncos.md 1.1)."""
    spec = appliance.spec
    build = spec.version.partition("-")[2] or "000"
    title = msg.appliance_title(spec.release.cli_family, spec.model)
    return (f"AsyncOS {spec.short_version} for Cisco {spec.model} build {build}\n\n"
            f"Welcome to the {title}\n\n{msg.CLI_IDLE_NOTE}\n\n")


def split_batch(command: str) -> list[str]:
    """Split an SSH exec command line on ``;`` outside quotes (``commit "a; b"`` stays whole)."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in command:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ";":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


class CliSession:
    """One CLI session: lines in, text out.

    ``feed`` takes a line typed at the main prompt (a command) or at a sub-prompt (an answer) and returns
    what the appliance prints in reply, the next question included; ``prompt`` is the main prompt to
    show after it ("" while a dialog waits for an answer, and always in exec mode, which has none).
    """

    def __init__(self, appliance: Appliance, *, interactive: bool = True) -> None:
        self.appliance = appliance
        self.interactive = interactive
        self.closed = False
        self.failed = False  # some command failed: the exit status of an exec batch
        self.commands = 0  # commands started (the drop_ssh_after fault counts them)
        self._dialog: Dialog | None = None
        self._out: list[str] = []
        self._spoke = False  # the running command printed something besides questions
        self._owns_changes = False  # this session staged configuration changes not yet committed

    # ---- driven by the SSH layer --------------------------------------------------------------
    def welcome(self) -> str:
        return banner(self.appliance) + self.prompt if self.interactive else ""

    @property
    def in_dialog(self) -> bool:
        return self._dialog is not None

    @property
    def prompt(self) -> str:
        if self.interactive and not self.closed and self._dialog is None:
            return self.appliance.prompt()
        return ""

    def feed(self, line: str) -> str:
        if self._dialog is None:
            self._start(line)
        else:
            self._advance(line.strip())
        return self._flush()

    def interrupt(self) -> str:
        """Ctrl-C: abandon the running dialog and go back to the main prompt."""
        self._abandon()
        return "\n"

    def end(self) -> None:
        """The session is over (exit, EOF, disconnect). Its uncommitted changes are lost, as the login
        NOTE warns; changes staged elsewhere (the GUI) are left alone."""
        if self._abandon():
            self.failed = True  # an exec batch whose dialog never got its answers
        if self._owns_changes and self.appliance.has_pending:
            self.appliance.clear()
        self._owns_changes = False
        self.closed = True

    # ---- used by the dialogs ------------------------------------------------------------------
    def say(self, text: str) -> None:
        self._out.append(text)
        self._spoke = True

    def staged(self) -> None:
        self._owns_changes = True

    def settled(self) -> None:
        """Pending changes were committed or cleared."""
        self._owns_changes = False

    @property
    def owns_changes(self) -> bool:
        return self._owns_changes and self.appliance.has_pending

    def close(self) -> None:
        self.closed = True

    def record(self, text: str, ok: bool) -> str:
        """Output of a command run outside the dialogs (the network tools of net_commands), laid out like
        any other command's output."""
        self.commands += 1
        self._spoke = False
        self.say(text)
        self._done(ok)
        return self._flush()

    # ---- the state machine --------------------------------------------------------------------
    def _start(self, line: str) -> None:
        line = line.strip()
        if not line:
            return  # an empty line: just the prompt again
        self.commands += 1
        self._spoke = False
        try:
            words = shlex.split(line)
        except ValueError:  # an unbalanced quote
            self.say(f"\n{msg.invalid_arguments(line)}\n")
            self._done(False)
            return
        name = words[0].lower()
        command = None if name in self.appliance.spec.release.absent_commands else COMMANDS.get(name)
        if command is None:
            self.say(f"\n{msg.unknown_command(words[0])}\n")
            self._done(False)
            return
        try:
            result = command(self, words[1:])
        except ApplianceError as exc:
            self.say(f"\n{exc}\n")
            self._done(False)
            return
        if isinstance(result, bool):
            self._done(result)
        else:
            self._dialog = result
            self._advance(None)

    def _advance(self, answer: str | None) -> None:
        assert self._dialog is not None
        try:
            question = self._dialog.send(answer)  # type: ignore[arg-type]  # None starts the generator
        except StopIteration as stop:
            self._dialog = None
            self._done(bool(stop.value))
        except ApplianceError as exc:  # the model refused: AsyncOS prints why and goes back to the prompt
            self._dialog = None
            self.say(f"\n{exc}\n")
            self._done(False)
        else:
            self._out.append(question)

    def _done(self, ok: bool) -> None:
        self.failed = self.failed or not ok
        if self._spoke and not self.closed:
            self._out.append("\n")  # the empty line between a command's output and the next prompt

    def _abandon(self) -> bool:
        dialog, self._dialog = self._dialog, None
        if dialog is None:
            return False
        dialog.close()
        return True

    def _flush(self) -> str:
        text = "".join(self._out)
        self._out.clear()
        return text


# ---- version ------------------------------------------------------------------------------------
def version(cli: CliSession, args: list[str]) -> bool:
    spec = cli.appliance.spec
    title = msg.appliance_title(spec.release.cli_family, spec.model)
    report = msg.version_report(title, spec.model, spec.version, spec.serial)
    cli.say(f"\n{report}\n")
    return True


# ---- threatresponseconfig (ENA-6, ENA-7) --------------------------------------------------------
def _trc_menu(enabled: bool) -> str:
    # Only the operation that applies is offered; the seed has an empty line after ENABLE only.
    if enabled:
        return f"\n{msg.CLI_CHOOSE_OPERATION}\n{msg.TRC_DISABLE_ITEM}\n[]> "
    return f"\n{msg.CLI_CHOOSE_OPERATION}\n{msg.TRC_ENABLE_ITEM}\n\n[]> "


def threatresponseconfig(cli: CliSession, args: list[str]) -> Dialog:
    batch = bool(args)
    if batch and (len(args) != 1 or args[0].lower() not in ("enable", "disable")):
        return invalid(cli, _TRC_USAGE)
    if not (yield from machine_mode(cli, batch)):
        return False
    if batch:
        operation = args[0].lower()  # the current state is no error: it is simply confirmed
    else:
        enabled = cli.appliance.staged.enabled
        chosen = yield from choose(_trc_menu(enabled), ["disable" if enabled else "enable"])
        if chosen is None:
            return True
        operation = chosen
    cli.appliance.set_enabled(operation == "enable")
    cli.staged()
    cli.say(f"\n{msg.TRC_ENABLED if operation == 'enable' else msg.TRC_DISABLED}\n")
    return True


# ---- commit / clear (reference 1.3) -------------------------------------------------------------
def commit(cli: CliSession, args: list[str]) -> Dialog:
    appliance = cli.appliance
    if len(args) > 2 or (len(args) == 2 and args[1].lower() not in ("y", "yes", "n", "no")):
        return invalid(cli, 'commit ["<comment>" [Y|N]]')
    if not appliance.has_pending:
        cli.say(f"\n{msg.NOTHING_TO_COMMIT}\n")
        return True
    if args:
        comment = args[0]  # batch: a rollback copy is kept unless the second argument says N
    else:
        comment = yield f"\n{msg.COMMIT_COMMENT_PROMPT}\n[]> "
        if appliance.spec.release.commit_asks_rollback:
            yield from confirm(f"\n{msg.COMMIT_ROLLBACK_PROMPT}", True)  # the model keeps no rollback copies
    when = appliance.commit(comment)
    cli.settled()
    cli.say(f"\n{msg.changes_committed(cli_date(when))}\n")
    return True


def clear(cli: CliSession, args: list[str]) -> Dialog:
    if args:
        return invalid(cli, "clear")
    if not (yield from confirm(f"\n{msg.CLEAR_CONFIRM}", True)):
        return True
    cli.appliance.clear()
    cli.settled()
    cli.say(f"\n{msg.changes_cleared(cli_date(cli.appliance.clock.now()))}\n")
    return True


# ---- clusters (reference 1.5, REG-7) ------------------------------------------------------------
_MODES = ("cluster", "group", "machine")


def clustermode(cli: CliSession, args: list[str]) -> Dialog:
    appliance = cli.appliance
    if appliance.lab.cluster_name is None:
        raise ApplianceError(msg.not_clustered("clustermode"))
    if args:
        if len(args) > 2 or args[0].lower() not in _MODES:
            return invalid(cli, _CLUSTERMODE_USAGE)
        mode = args[0].lower()  # a machine or group name is accepted; the lab has one of each
    else:
        menu = (f"\n{msg.CLUSTERMODE_MENU_TITLE}\n1. Cluster {appliance.lab.cluster_name}\n"
                f"2. Group Main_Group\n3. Machine {appliance.spec.hostname}\n[]> ")
        chosen = yield from choose(menu, [*_MODES, "1", "2", "3"])
        if chosen is None:
            return True
        mode = _MODES[int(chosen) - 1] if chosen.isdigit() else chosen
    appliance.set_mode(mode)
    return True


def clusterconfig(cli: CliSession, args: list[str]) -> bool:
    """Batch only: ``join <host> <user> <password> <group>`` or ``new <name>``. The lab has no peer to
    reach, so joining takes the cluster's name from the host it joins through."""
    operation = args[0].lower() if args else ""
    if operation == "join" and len(args) == 5:
        name = args[1]
        cli.appliance.join_cluster(name)  # REG-7: refused while registered
        cli.say(f"\n{msg.cluster_joined(name)}\n")
        return True
    if operation == "new" and len(args) == 2:
        cli.appliance.join_cluster(args[1])
        cli.say(f"\n{msg.cluster_created(args[1])}\n")
        return True
    return invalid(cli, _CLUSTERCONFIG_USAGE)


# ---- exit ---------------------------------------------------------------------------------------
def exit_cli(cli: CliSession, args: list[str]) -> Dialog:
    """exit / quit / q: "Will warn you about uncommitted changes" (reference 1.3)."""
    if cli.owns_changes and not (yield from confirm(f"\n{msg.EXIT_UNCOMMITTED}", False)):
        return True
    cli.close()
    return True


COMMANDS: dict[str, Command] = {
    "version": version,
    "threatresponseconfig": threatresponseconfig,
    "cloudserviceconfig": cloudserviceconfig,
    "commit": commit,
    "clear": clear,
    "clearchanges": clear,
    "clustermode": clustermode,
    "clusterconfig": clusterconfig,
    "exit": exit_cli,
    "quit": exit_cli,
    "q": exit_cli,
}
