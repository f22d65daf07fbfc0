"""Building blocks of the CLI dialogs: menus, yes/no questions, the machine-mode check, usage errors.

A dialog is a generator that yields the text to show (ending with its sub-prompt) and is sent the line
typed in answer; see ``cli_commands.py`` for the session that drives them.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING

from . import messages as msg

if TYPE_CHECKING:
    from .cli_commands import CliSession

Dialog = Generator[str, str, bool]
"""Yields questions, is sent the answers, returns success."""

_YES = ("y", "yes")


def choose(menu: str, choices: Sequence[str]) -> Generator[str, str, str | None]:
    """Show a menu until a valid choice is typed (case-insensitive); an empty line backs out (None).

    A wrong choice shows the menu again, as AsyncOS does."""
    while True:
        answer = (yield menu).strip().lower()
        if not answer:
            return None
        if answer in choices:
            return answer


def confirm(question: str, default: bool) -> Generator[str, str, bool]:
    """A yes/no question with its default in brackets; anything but yes/y (or the default) is no."""
    answer = (yield f"{question} [{'Y' if default else 'N'}]> ").strip().lower()
    return default if not answer else answer in _YES


def machine_mode(cli: CliSession, batch: bool) -> Generator[str, str, bool]:
    """ENA-7 / REG-10: the command runs in machine mode only. Like AsyncOS, warn and offer to switch;
    a batch command cannot be asked, so it fails."""
    appliance = cli.appliance
    if appliance.mode in ("standalone", "machine"):
        return True
    if batch:
        cli.say(f"\n{msg.MACHINE_MODE_ONLY}\n")
        return False
    if not (yield from confirm(f"\n{msg.MACHINE_MODE_ONLY} {msg.SWITCH_TO_MACHINE_MODE}", True)):
        return False
    appliance.set_mode("machine")
    return True


def invalid(cli: CliSession, usage: str) -> bool:
    cli.say(f"\n{msg.invalid_arguments(usage)}\n")
    return False


