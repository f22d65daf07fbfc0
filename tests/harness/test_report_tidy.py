"""What the Allure writer tidies, and severity from tags: small, direct checks of the rules."""

from __future__ import annotations

import pytest

from harness import tags
from harness.report.result_tidy import tidy, unquote


@pytest.mark.parametrize(("raw", "shown"), [
    ("'\"13.0.0-392\"'", "13.0.0-392"),  # repr of a quoted Gherkin argument
    ("'showconfig'", "showconfig"),
    ("\"it's\"", "it's"),
    ("42", "42"),
    ("\"'a' and 'b'\"", "'a' and 'b'"),  # a value that is not one quoted argument keeps its quotes
])
def test_parameter_values_lose_the_repr_and_gherkin_quotes(raw: str, shown: str) -> None:
    assert unquote(raw) == shown


def test_noise_labels_go_and_nested_step_parameters_are_unquoted() -> None:
    result = {"labels": [{"name": "host", "value": "vm"}, {"name": "thread", "value": "1-Main"},
                         {"name": "severity", "value": "critical"}],
              "steps": [{"name": "Given x", "parameters": [{"name": "v", "value": "'\"1\"'"}],
                         "steps": [{"name": "inner", "parameters": [{"name": "w", "value": "'2'"}]}]}]}
    tidy(result)
    assert result["labels"] == [{"name": "severity", "value": "critical"}]
    assert result["steps"][0]["parameters"][0]["value"] == "1"
    assert result["steps"][0]["steps"][0]["parameters"][0]["value"] == "2"


def test_a_severity_tag_becomes_the_allure_severity_label() -> None:
    [mark] = tags.marks_for_tag("@severity:critical")
    assert mark.name == "allure_label" and mark.args == ("critical",) and mark.kwargs == {"label_type": "severity"}
    with pytest.raises(tags.TagError, match="the severity is one of blocker, critical, normal, minor, trivial"):
        tags.marks_for_tag("@severity:urgent")
    with pytest.raises(tags.TagError, match="did you mean @severity:critical"):
        tags.marks_for_tag("@severty:critical")
