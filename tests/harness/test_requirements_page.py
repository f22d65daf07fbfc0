"""The requirement pages a ``@req`` link points at: docs/requirements.md is current, one anchor per ID."""

from __future__ import annotations

import re
from pathlib import Path

from harness.catalogue import load
from harness.report.requirements_page import render_html, render_markdown, requirement_status, summary

ROOT = Path(__file__).resolve().parents[2]


def test_docs_requirements_md_is_generated_from_the_catalogue() -> None:
    committed = (ROOT / "docs" / "requirements.md").read_text(encoding="utf-8")
    assert committed == render_markdown(load()), (
        "docs/requirements.md is stale: python -m harness.report.requirements_page --markdown docs/requirements.md")


def test_every_id_has_exactly_one_anchor_in_both_pages() -> None:
    catalogue = load()
    markdown, page = render_markdown(catalogue), render_html(catalogue, {})
    for rid in catalogue.ids():
        assert markdown.count(f'<a id="{rid}"></a>') == 1, rid
        assert page.count(f"<section id='{rid}'>") == 1, rid
    assert len(re.findall(r'<a id="', markdown)) == len(catalogue.ids())


def test_a_requirement_is_as_good_as_its_worst_scenario() -> None:
    assert requirement_status([]) == "not run"
    assert requirement_status([("a", "passed"), ("b", "skipped")]) == "passed"
    assert requirement_status([("a", "passed"), ("b", "broken")]) == "broken"
    assert requirement_status([("a", "broken"), ("b", "failed")]) == "failed"
    catalogue = load()
    counts = summary(catalogue, {"ENA-1": [("x", "failed")], "PRE-1": [("y", "passed")]})
    assert counts["failed"] == 1 and counts["passed"] == 1 and counts["not run"] == len(catalogue.ids()) - 2
