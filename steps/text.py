"""Sentence patterns shared by the step modules.

Quoted arguments accept either quote character, so a value can contain the other one:
``'Make sure you run "commit" to make these changes active.'`` or ``"it's"``; the step receives the value
without its quotes.

A step that changes what every appliance of a shared lab sees (the firewall, the proxy, the lab's DNS, SSE
Cloud Services) is marked where it is defined, ``@step(lab_wide(sentence(...)))``: a scenario using one holds
the whole lab while it runs (``harness.leasing``), so pytest-xdist workers never overlap it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pytest_bdd import parsers

from harness.facts import DEADLINES, REGIONS

LAB_WIDE: list[parsers.StepParser] = []


def q(name: str) -> str:
    """A quoted argument named ``name``."""
    return rf"""(?P<{name}>"[^"]*"|'[^']*')"""


def unq(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


class Sentence(parsers.re):
    """A regex step parser whose quoted arguments arrive without their quotes."""

    def parse_arguments(self, name: str) -> dict[str, Any] | None:
        found = super().parse_arguments(name)
        if found is None:
            return None
        return {k: unq(v) if isinstance(v, str) else v for k, v in found.items()}


def sentence(pattern: str) -> Sentence:
    """A step pattern: ``{name}`` is a quoted argument, ``<name:regex>`` a bare one."""
    out = re.sub(r"\{(\w+)\}", lambda m: q(m.group(1)), pattern)
    out = re.sub(r"<(\w+):([^>]+)>", lambda m: f"(?P<{m.group(1)}>{m.group(2)})", out)
    return Sentence(out)


def lab_wide(parser: parsers.StepParser | str) -> Any:
    """Mark a step as changing the whole lab (see the module's doc); returns what it was given."""
    LAB_WIDE.append(parser if isinstance(parser, parsers.StepParser) else parsers.string(parser))
    return parser


def changes_whole_lab(step_names: Iterable[str]) -> bool:
    """Whether a scenario with these steps uses a step marked :func:`lab_wide`."""
    names = [n.strip() for n in step_names]
    return any(p.is_matching(n) for p in LAB_WIDE for n in names)


INTERFACE = "<interface:GUI|CLI>"
REGION = f'"<region:{"|".join(REGIONS)}>"'
DEADLINE = f"<deadline:{'|'.join(DEADLINES)}>"


def table_rows(datatable: list[list[str]] | None, header: bool = True) -> list[list[str]]:
    rows = [list(r) for r in (datatable or [])]
    return rows[1:] if header and rows else rows


def table_dict(datatable: list[list[str]] | None) -> dict[str, str]:
    """A two-column ``| field | value |`` table (header row first) as a mapping."""
    return {r[0].strip(): (r[1] if len(r) > 1 else "") for r in table_rows(datatable)}


def table_column(datatable: list[list[str]] | None) -> list[str]:
    """A one-column table; a header row is kept unless it is a known header word."""
    rows = [r[0].strip() for r in (datatable or []) if r]
    if rows and rows[0].lower() in ("scope", "action", "choice", "type", "value"):
        rows = rows[1:]
    return rows
