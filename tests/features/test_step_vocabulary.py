"""The step vocabulary, checked without a lab.

* every step line of ``features/*.feature`` (each outline example rendered) matches exactly one step
  definition of its keyword: a typo in a sentence is found here, not in the middle of a lab run,
* ``harness.steps_catalog.list_steps()`` lists the vocabulary ``ctrlab steps`` prints,
* the placeholder and failure-message helpers behave as the docs say.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest_bdd.parser import FeatureParser

from harness.steps_catalog import StepInfo, format_steps, list_steps, readable
from steps.expect import ConformanceError, failure_message
from steps.placeholders import UnknownPlaceholder, full_match, resolve, search

FEATURES = Path(__file__).resolve().parents[2] / "features"


@pytest.fixture(scope="module")
def vocabulary() -> list[StepInfo]:
    return list_steps()


def rendered_steps() -> list[tuple[str, str, str]]:
    """(where, keyword, text) of every step of every scenario, outline examples rendered."""
    out = []
    for path in sorted(FEATURES.glob("*.feature")):
        feature = FeatureParser(str(FEATURES), path.name).parse()
        for scenario in feature.scenarios.values():
            renderings = []
            if scenario.templated:
                for table in scenario.examples:
                    for row in table.examples:
                        renderings.append(scenario.render(dict(zip(table.example_params, row, strict=True))))
            else:
                renderings.append(scenario.render({}))
            for rendered in renderings:
                for step in rendered.steps:  # the Background's steps included
                    out.append((f"{path.name}: {scenario.name}", step.type, step.name))
    return out


def test_the_vocabulary_is_listed(vocabulary: list[StepInfo]) -> None:
    assert len(vocabulary) >= 100
    assert {s.keyword for s in vocabulary} <= {"Given", "When", "Then", "Any"}
    patterns = [(s.keyword, s.pattern) for s in vocabulary]
    assert len(patterns) == len(set(patterns)), "two step definitions with the same sentence"
    listing = format_steps(vocabulary)
    assert "Given  the appliance starts with cloud services disabled" in listing
    assert "I run {command} in the CLI and answer:  + datatable" in listing


def test_every_feature_step_matches_exactly_one_definition(vocabulary: list[StepInfo]) -> None:
    compiled = [(s.keyword.lower(), re.compile(s.regex), s) for s in vocabulary]
    problems = []
    for where, keyword, text in rendered_steps():
        matches = [s for kw, rx, s in compiled if kw in (keyword, "any") and rx.fullmatch(text)]
        if len(matches) != 1:
            names = [f"{m.module}.{m.function}" for m in matches]
            problems.append(f"{where}: {keyword.capitalize()} {text!r} -> {names or 'no step definition'}")
    assert not problems, "\n".join(problems[:30])


def test_readable_patterns() -> None:
    assert readable(r"""I open (?P<path>"[^"]*"|'[^']*') in the GUI""") == "I open {path} in the GUI"
    assert readable(r"through the (?P<interface>GUI|CLI)") == "through the <interface: GUI|CLI>"


def test_placeholders_fill_values_and_match_shapes() -> None:
    values = {"hostname": "esa1.lab", "token": "ab" * 16}
    assert resolve("<hostname> and <token>", values) == "esa1.lab and " + "ab" * 16
    assert resolve("Changes committed: <date>", values) == "Changes committed: <date>"
    assert search("Changes committed: <date>", "x\nChanges committed: Mon Nov 19 10:04:35 2018 GMT\n", values)
    assert full_match("<name> Email Security Appliance", "ctrlab Email Security Appliance", values)
    # Line wrapping differs between releases: whitespace runs compare equal.
    assert search("is currently enabled on your appliance. Use the cloudserviceconfig command",
                  "is currently enabled on your appliance. Use the \ncloudserviceconfig command", values)
    with pytest.raises(UnknownPlaceholder):
        resolve("<no such thing>", values)


def test_failure_message_names_quotes_and_shows() -> None:
    text = failure_message("Success — Your changes have been committed.", "There is no data to commit.",
                           ["ENA-4"], "Commit Changes")
    assert text.startswith("[ENA-4] Commit Changes")
    assert "ENA-4 [002 004 000]: after commit the page says" in text
    assert "document expects: Success — Your changes have been committed." in text
    assert "observed: There is no data to commit." in text
    assert issubclass(ConformanceError, AssertionError)
