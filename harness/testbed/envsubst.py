"""``%ENV{NAME}`` and ``%ASK{prompt}`` markup (pyATS-style): secrets stay out of the testbed file.

The markup may appear anywhere inside a string value (``http://user:%ENV{PROXY_PASSWORD}@proxy:3128``).
Every resolved value is reported back, so the harness masks it in reports and logs whatever it is.

Resolution is lazy, per field: a command says which fields it uses (``needed``), and only those must
resolve. ``ctrlab netcheck`` reads ``network`` and ``cloud.region``, so an unset ``%ENV{ESA_PASSWORD}``
does not stop it and an ``%ASK{}`` password is not asked for. A field that is not needed keeps its markup
as text and is recorded in :attr:`Substitution.unset` / :attr:`Substitution.deferred`.

``%ASK{prompt}`` asks on the terminal (``getpass``: no echo) when a command needs the field; without a
terminal it is refused, naming the field. An empty prompt (``%ASK{}``) asks for the field by its path.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_MARKUP = re.compile(r"%ENV\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")
ASK_MARKUP = re.compile(r"%ASK\{(?P<prompt>[^{}]*)\}")
MARKUP = re.compile(f"{ENV_MARKUP.pattern}|{ASK_MARKUP.pattern}")
_ANY_MARKUP = re.compile(r"%(ENV|ASK)\{[^}]*\}?")

Path = tuple[str | int, ...]
Needed = Callable[[str], bool]  # dotted field path -> does the command use it?
Asker = Callable[[str], str]  # prompt -> the typed value


def every_field(path: str) -> bool:
    return True


def no_field(path: str) -> bool:
    return False


def fields_under(*prefixes: str) -> Needed:
    """Needed: the fields at or below these dotted paths (``"network"``, ``"cloud.region"``)."""

    def needed(path: str) -> bool:
        return any(path == p or path.startswith(p + ".") for p in prefixes)

    return needed


class AskRefused(Exception):
    """``%ASK{}`` without a terminal to ask on."""


_ANSWERS: dict[str, str] = {}  # prompt -> answer, for this process: the plugin and the backend both load the file


def ask_on_terminal(prompt: str) -> str:
    """Ask on the controlling terminal without echo, once per prompt and process; refuse when there is no
    terminal (CI, a pipe, a daemon).

    getpass falls back to reading stdin with echo when /dev/tty cannot be opened: never let a secret be
    read or shown that way.
    """
    if prompt in _ANSWERS:
        return _ANSWERS[prompt]
    try:
        with open("/dev/tty", "r+b", buffering=0):
            pass
    except OSError:
        raise AskRefused("no terminal to ask on") from None
    _ANSWERS[prompt] = getpass.getpass(prompt)
    return _ANSWERS[prompt]


@dataclass
class Substitution:
    """What resolving a document found: the values substituted and every problem, by field path."""

    resolved: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    unset: dict[str, str] = field(default_factory=dict)  # field path -> unset variable, in fields not needed
    deferred: dict[str, str] = field(default_factory=dict)  # field path -> %ASK prompt not asked (not needed)
    asked: dict[str, str] = field(default_factory=dict)  # prompt -> answer, so one prompt is asked once


def dotted(path: Path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def substitute(data: Any, environ: Mapping[str, str], path: Path = (), result: Substitution | None = None, *,
               needed: Needed = every_field, ask: Asker | None = ask_on_terminal) -> tuple[Any, Substitution]:
    """Resolve ``%ENV{NAME}`` and ``%ASK{prompt}`` in every string value of a YAML document (keys are left alone).

    Problems in needed fields (a missing variable, a refused ask) and malformed markup are collected, not
    raised, so one run names them all. ``ask=None`` never asks: every ``%ASK`` is deferred.
    """
    result = result if result is not None else Substitution()
    if isinstance(data, dict):
        return {k: substitute(v, environ, (*path, k), result, needed=needed, ask=ask)[0]
                for k, v in data.items()}, result
    if isinstance(data, list):
        return [substitute(v, environ, (*path, i), result, needed=needed, ask=ask)[0]
                for i, v in enumerate(data)], result
    if not isinstance(data, str) or ("%ENV" not in data and "%ASK" not in data):
        return data, result
    where = dotted(path)
    use = needed(where)

    def replace(match: re.Match[str]) -> str:
        name, prompt = match.group("name"), match.group("prompt")
        if name is not None:
            if name in environ:
                result.resolved.add(environ[name])
                return environ[name]
            if use:
                result.problems.append(f"{where}: environment variable {name} is not set")
            else:
                result.unset[where] = name
            return match.group(0)
        prompt = prompt.strip() or where
        if not use or ask is None:
            result.deferred[where] = prompt
            return match.group(0)
        if prompt not in result.asked:
            try:
                result.asked[prompt] = ask(f"{prompt}: ")
            except (AskRefused, EOFError) as exc:
                why = exc or "end of input"
                result.problems.append(f"{where}: {match.group(0)} needs a terminal to ask on ({why}); run the "
                                       "command in a terminal, or write %ENV{NAME} and set the variable")
                return match.group(0)
        result.resolved.add(result.asked[prompt])
        return result.asked[prompt]

    out = MARKUP.sub(replace, data)
    if bad := _ANY_MARKUP.search(MARKUP.sub("", data)):
        hint = ("write %ENV{NAME} with NAME a variable name (letters, digits, underscore)"
                if bad.group(0).startswith("%ENV") else "write %ASK{prompt} or %ASK{}, without braces in the prompt")
        result.problems.append(f"{where}: malformed {bad.group(0)!r}: {hint}")
    return out, result
