"""``%ENV{NAME}`` markup (pyATS-style): secrets stay in the environment, never in the testbed file.

The markup may appear anywhere inside a string value (``http://user:%ENV{PROXY_PASSWORD}@proxy:3128``).
Every resolved value is reported back, so the harness masks it in reports and logs whatever it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_MARKUP = re.compile(r"%ENV\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")
_ANY_MARKUP = re.compile(r"%ENV\{[^}]*\}?")


@dataclass
class Substitution:
    """What resolving a document found: the values substituted and every problem, by field path."""

    resolved: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def substitute(data: Any, environ: Mapping[str, str], path: tuple[str | int, ...] = (),
               result: Substitution | None = None) -> tuple[Any, Substitution]:
    """Resolve ``%ENV{NAME}`` in every string value of a YAML document (keys are left alone).

    Missing variables and malformed markup are collected, not raised, so one run names them all.
    """
    result = result if result is not None else Substitution()
    if isinstance(data, dict):
        return {k: substitute(v, environ, (*path, k), result)[0] for k, v in data.items()}, result
    if isinstance(data, list):
        return [substitute(v, environ, (*path, i), result)[0] for i, v in enumerate(data)], result
    if not isinstance(data, str) or "%ENV" not in data:
        return data, result

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in environ:
            result.problems.append(f"{dotted(path)}: environment variable {name} is not set")
            return match.group(0)
        value = environ[name]
        result.resolved.add(value)
        return value

    out = ENV_MARKUP.sub(replace, data)
    leftover = ENV_MARKUP.sub("", data)
    if bad := _ANY_MARKUP.search(leftover):
        result.problems.append(f"{dotted(path)}: malformed {bad.group(0)!r}: write %ENV{{NAME}} with NAME a "
                               "variable name (letters, digits, underscore)")
    return out, result
