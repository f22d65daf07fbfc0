"""Conformance assertions: every failure names the requirement, quotes the document, shows the lab.

A step never writes ``assert x == y``. It calls :func:`expect`, whose message carries:

* the scenario's requirement IDs (its ``@req:<ID>`` tags, read from the pytest item's markers) with
  each statement quoted from the catalogue (``harness/requirements.yaml``),
* what the document expects, quoted (the exact string where the document is exact),
* what was observed on the appliance or in the cloud.

So a report line reads like a finding: "ENA-4 [002 004 000]: after commit the page says ... --
expected 'Success — Your changes have been committed.' -- observed: 'There is no data to commit.'".
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest

from harness.catalogue import load as load_catalogue
from harness.verdicts import raise_if_lab_fault

MAX_OBSERVED = 1500  # characters of observed output a message shows (the transcript has the rest)


class ConformanceError(AssertionError):
    """The appliance or the cloud did not do what the document says (a product finding)."""

    def __init__(self, message: str, req_ids: list[str]) -> None:
        super().__init__(message)
        self.req_ids = req_ids


def requirement_ids(request: pytest.FixtureRequest) -> list[str]:
    """The scenario's requirement IDs, whichever way the tags became markers.

    pytest-bdd turns ``@req:ENA-4`` into a marker named ``req:ENA-4``; a plugin may instead map it to
    ``pytest.mark.req("ENA-4")``. Both are read, in tag order, without duplicates.
    """
    ids: list[str] = []
    node: Any = getattr(request, "node", None)
    if node is None:
        return ids
    for mark in node.iter_markers():
        if mark.name == "req":
            ids += [str(a) for a in mark.args]
            if "id" in mark.kwargs:
                ids.append(str(mark.kwargs["id"]))
        elif mark.name.startswith("req:"):
            ids.append(mark.name[4:])
    return list(dict.fromkeys(ids))


def describe_requirements(ids: list[str]) -> str:
    catalogue = load_catalogue()
    lines = []
    for rid in ids:
        if rid in catalogue:
            lines.append(f"  {catalogue[rid].quote}")
        else:
            lines.append(f"  {rid}: (not in the catalogue)")
    return "\n".join(lines) if lines else "  (scenario has no @req tag)"


def _show(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_OBSERVED:
        text = text[:MAX_OBSERVED] + f"... [{len(text) - MAX_OBSERVED} more characters in the transcript]"
    return text


def failure_message(expected: object, observed: object, ids: list[str], what: str = "") -> str:
    head = f"[{', '.join(ids) or 'no @req'}] " + (what or "the lab did not behave as the document says")
    return (f"{head}\n"
            f"requirement(s):\n{describe_requirements(ids)}\n"
            f"document expects: {_show(expected)}\n"
            f"observed: {_show(observed)}")


def expect(condition: object, expected: object, observed: object, request: pytest.FixtureRequest,
           what: str = "") -> None:
    """Fail the scenario unless ``condition``; the message names, quotes and shows (see module doc).

    An observation that is a lab fault (a transport error, HTTP 5xx or 429 after the retries, raised or
    being handled) is no answer of the product: it raises :class:`harness.verdicts.LabFault`, never a
    conformance verdict, whatever ``condition`` says.
    """
    __tracebackhide__ = True
    raise_if_lab_fault(observed)
    if condition:
        return
    raise_if_lab_fault(sys.exc_info()[1])
    ids = requirement_ids(request)
    raise ConformanceError(failure_message(expected, observed, ids, what), ids)


def note_inferred(request: pytest.FixtureRequest, strings: list[str]) -> None:
    """Say in the scenario's report that it asserts strings the documents do not give (issue 17 item 5):
    an Allure label ``inferred`` per string, and the same as a JUnit/pytest user property."""
    node: Any = getattr(request, "node", None)
    for text in strings:
        if node is not None and ("inferred", text) not in node.user_properties:
            node.user_properties.append(("inferred", text))
            try:
                import allure

                allure.dynamic.label("inferred", text)
            except Exception:  # no Allure in this run: the user property still says it
                pass


# ---- text comparison helpers ------------------------------------------------------------------------
def squash(text: str) -> str:
    """Whitespace-insensitive form: CLI releases wrap long lines at different columns."""
    return " ".join(text.split())


def contains(haystack: str, needle: str) -> bool:
    return squash(needle) in squash(haystack)


def pattern_match(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.search(squash(text)) is not None
