"""Placeholders in step text, tables and doc strings: ``<hostname>``, ``<token>``, ``<date>``, ...

Two kinds:

* **values** the scenario knows (the leased appliance's host name, the last token, the MID of the
  message it sent); they are substituted before a step acts or compares;
* **shapes** the document leaves open (a commit date, a UUID, an IP address); in an expected text they
  match any value of that shape, e.g. ``Changes committed: <date>``.

Scenario Outline parameters use the same ``<name>`` syntax; pytest-bdd substitutes those first, so a
placeholder name must not be an Examples column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"<(?P<name>[a-z][a-z0-9 ._-]*)>")

# Shapes: what the documents show as an example value.
SHAPES: dict[str, str] = {
    # "Changes committed: Mon Nov 19 10:04:35 2018 GMT" (seed 003)
    "date": r"[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2} \d{4}(?: [A-Z]{2,5}(?:[+-]\d{1,2})?)?",
    # "Created: 2020-05-11 20:41:05 UTC" (seed 004 SSE device list)
    "datetime": r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?: ?UTC|Z|[+-]\d{2}:?\d{2})?",
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "ip": r"(?:\d{1,3}\.){3}\d{1,3}",
    "semver": r"\d+(?:\.\d+)+(?:-\d+)?",
    "hex32": r"[0-9a-f]{32}",
    "number": r"\d+",
    "name": r"\S+",  # the catalogue's "<name> Email Security Appliance": one word, whatever it is
    "any": r".+?",
}


class UnknownPlaceholder(KeyError):
    """A feature file names a placeholder the scenario cannot fill (a typo, or a step order problem)."""


def names(text: str) -> list[str]:
    return [m.group("name") for m in PLACEHOLDER.finditer(text)]


def resolve(text: str, values: Mapping[str, str]) -> str:
    """Substitute value placeholders; shapes are left as they are (they only make sense in comparisons)."""

    def sub(m: re.Match[str]) -> str:
        name = m.group("name")
        if name in values:
            return str(values[name])
        if name in SHAPES:
            return m.group(0)
        raise UnknownPlaceholder(f"placeholder <{name}> has no value here; known: "
                                 f"{', '.join(sorted(values)) or '(none yet)'}; shapes: {', '.join(SHAPES)}")

    return PLACEHOLDER.sub(sub, text)


def to_regex(expected: str, values: Mapping[str, str]) -> re.Pattern[str]:
    """A whitespace-insensitive regex for an expected text with placeholders of both kinds."""
    parts: list[str] = []
    pos = 0
    for m in PLACEHOLDER.finditer(expected):
        parts.append(_literal(expected[pos:m.start()]))
        name = m.group("name")
        if name in values:
            parts.append(_literal(str(values[name])))
        elif name in SHAPES:
            parts.append(f"(?:{SHAPES[name]})")
        else:
            raise UnknownPlaceholder(f"placeholder <{name}> has no value here; known: "
                                     f"{', '.join(sorted(values)) or '(none yet)'}; shapes: {', '.join(SHAPES)}")
        pos = m.end()
    parts.append(_literal(expected[pos:]))
    return re.compile("".join(parts).strip())


def _literal(text: str) -> str:
    """Escape literal text; any run of whitespace matches any run (line wrapping differs by release)."""
    words = text.split()
    if not words:
        return r"\s*" if text else ""
    core = r"\s+".join(re.escape(w) for w in words)
    lead = r"\s*" if text[:1].isspace() else ""
    trail = r"\s*" if text[-1:].isspace() else ""
    return lead + core + trail


def full_match(expected: str, observed: str, values: Mapping[str, str]) -> bool:
    return to_regex(expected, values).fullmatch(" ".join(observed.split())) is not None


def search(expected: str, observed: str, values: Mapping[str, str]) -> bool:
    return to_regex(expected, values).search(" ".join(observed.split())) is not None
