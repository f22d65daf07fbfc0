"""Sentence patterns shared by the step modules.

Quoted arguments accept either quote character, so a value can contain the other one:
``'Make sure you run "commit" to make these changes active.'`` or ``"it's"``.
"""

from __future__ import annotations

from pytest_bdd import parsers


def q(name: str) -> str:
    """A quoted argument named ``name`` (the quotes are part of the match; :func:`unq` strips them)."""
    return rf"""(?P<{name}>"[^"]*"|'[^']*')"""


def unq(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def sentence(pattern: str) -> parsers.re:
    """A step pattern: ``{name}`` is a quoted argument, ``<name:regex>`` a bare one."""
    import re as _re

    out = _re.sub(r"\{(\w+)\}", lambda m: q(m.group(1)), pattern)
    out = _re.sub(r"<(\w+):([^>]+)>", lambda m: f"(?P<{m.group(1)}>{m.group(2)})", out)
    return parsers.re(out)


INTERFACE = "<interface:GUI|CLI>"
REGION = '"<region:nam|eu|apjc>"'
DEADLINE = "<deadline:cloud_ready|registration|deregistration|mail_tracked>"


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
