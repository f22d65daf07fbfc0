"""A scenario that asserts a string the documents do not give says so in its report (issue 17 item 5)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from harness.facts import INFERRED_STRINGS, NOTHING_TO_COMMIT, inferred_in
from steps.expect import note_inferred


def _request() -> Any:
    return SimpleNamespace(node=SimpleNamespace(user_properties=[]))


def test_inferred_strings_are_found_whitespace_insensitively() -> None:
    assert inferred_in("There is no data\n to commit.") == [NOTHING_TO_COMMIT]
    assert inferred_in("Changes committed: Mon Dec 7") == []
    assert all(INFERRED_STRINGS.values()), "each inferred string says where its wording comes from"


def test_the_report_names_each_inferred_string_once() -> None:
    request = _request()
    note_inferred(request, [NOTHING_TO_COMMIT])
    note_inferred(request, [NOTHING_TO_COMMIT])
    assert request.node.user_properties == [("inferred", NOTHING_TO_COMMIT)]
