"""Allure results as a reader wants them, applied by the writer (``allure_results.MaskingFileLogger``).

* No noise labels: ``host`` and ``thread`` say which machine and thread ran a scenario, which no reader
  of a conformance report asks (the environment section names the lab).
* Parameter values without doubled quotes: allure-pytest-bdd shows a step argument as the ``repr`` of
  the matched text, and a quoted Gherkin argument keeps its quotes: ``'"13.0.0-392"'`` becomes ``13.0.0-392``.
"""

from __future__ import annotations

import re
from typing import Any

NOISE_LABELS = frozenset({"host", "thread"})
_REPR = re.compile(r"""^(?P<q>['"])(?P<inner>.*)(?P=q)$""", re.DOTALL)
_GHERKIN = re.compile(r"""^(?P<q>['"])(?P<inner>(?:(?!(?P=q)).)*)(?P=q)$""", re.DOTALL)  # no inner quote of its kind


def unquote(value: str) -> str:
    """Strip a ``repr``'s quotes, then the Gherkin argument's own quotes (one pair each, at most)."""
    for pattern in (_REPR, _GHERKIN):
        match = pattern.match(value)
        if match is None:
            break
        value = match.group("inner")
    return value


def _tidy_steps(steps: list[dict[str, Any]]) -> None:
    for step in steps:
        for parameter in step.get("parameters", []):
            if isinstance(parameter.get("value"), str):
                parameter["value"] = unquote(parameter["value"])
        _tidy_steps(step.get("steps", []))


def tidy(data: dict[str, Any]) -> dict[str, Any]:
    """A result or container dict (as written to ``*-result.json``), tidied in place and returned."""
    if "labels" in data:
        data["labels"] = [label for label in data["labels"] if label.get("name") not in NOISE_LABELS]
    for parameter in data.get("parameters", []):
        if isinstance(parameter.get("value"), str):
            parameter["value"] = unquote(parameter["value"])
    _tidy_steps(data.get("steps", []))
    for fixture in (*data.get("befores", []), *data.get("afters", [])):
        _tidy_steps(fixture.get("steps", []))
    return data
