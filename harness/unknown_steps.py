"""A Gherkin step no step definition matches: one line naming the file and line, and the nearest sentence.

pytest-bdd's own error ("Step definition is not found: ...") names neither the closest known step nor
the file relative to the project; a misspelt step is the commonest mistake when writing a scenario.
"""

from __future__ import annotations

import difflib
import os
from typing import Any

from pytest_bdd.exceptions import StepDefinitionNotFoundError

MAX_SUGGESTION_CUTOFF = 0.5  # below this similarity a "did you mean" misleads more than it helps


class UnknownStep(StepDefinitionNotFoundError):
    """A step without a definition; the message is the whole story, in one line."""


def known_sentences(step_type: str | None) -> list[str]:
    """Every registered step sentence of that keyword (or of any keyword), as a feature writer types it."""
    from pytest_bdd.steps import step_function_context_registry

    from .steps_catalog import readable

    sentences: list[str] = []
    for context in list(step_function_context_registry.values()):
        if context.type not in (None, step_type):
            continue
        sentences.append(readable(getattr(context.parser, "name", str(context.parser))))
    return sorted(set(sentences))


def nearest(text: str, sentences: list[str]) -> str | None:
    if not sentences:
        return None
    scored = max(sentences, key=lambda s: difflib.SequenceMatcher(None, text.lower(), s.lower()).ratio())
    ratio = difflib.SequenceMatcher(None, text.lower(), scored.lower()).ratio()
    return scored if ratio >= MAX_SUGGESTION_CUTOFF else None


def unknown_step_error(feature: Any, step: Any, rootdir: str) -> UnknownStep:
    filename = getattr(feature, "filename", "") or getattr(feature, "rel_filename", "")
    try:
        where = os.path.relpath(filename, rootdir) if filename else "?"
    except ValueError:
        where = filename
    keyword = (getattr(step, "keyword", "") or "").strip()
    sentence = f"{keyword} {step.name}".strip()
    close = nearest(step.name, known_sentences(getattr(step, "type", None)))
    hint = f"; did you mean: {close}" if close else "; `ctrlab steps` lists the vocabulary"
    return UnknownStep(f"{where}:{step.line_number}: unknown step: {sentence}{hint}")
