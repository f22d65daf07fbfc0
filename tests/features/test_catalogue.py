"""The catalogue carried as data, and the feature files' coverage of it.

* every requirement ID of the catalogue is tagged ``@req:<ID>`` on at least one scenario,
* no ``@req`` tag names an ID the catalogue does not have,
* ``harness/requirements.yaml`` says what ``REQUIREMENTS.md`` says (when the shared spec is present).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.catalogue import Catalogue, load, parse_markdown, scan_features

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "features"
# The shared spec lives beside the repository; CTRLAB_REQUIREMENTS points elsewhere when needed.
REQUIREMENTS = Path(os.environ.get("CTRLAB_REQUIREMENTS", ROOT.parent / "shared" / "REQUIREMENTS.md"))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load()


@pytest.fixture(scope="module")
def tagged() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for scenario in scan_features(FEATURES):
        for rid in scenario.ids:
            out.setdefault(rid, []).append(f"{scenario.feature}:{scenario.line} {scenario.name}")
    return out


def test_catalogue_has_every_group(catalogue: Catalogue) -> None:
    assert set(catalogue.groups) == {"PRE", "ENA", "REG", "VER", "RIB", "REM", "TS"}
    assert len(catalogue.requirements) >= 46
    for req in catalogue.requirements.values():
        assert req.statement, req.id
        assert req.documents, f"{req.id} names no source document"
        assert req.id.split("-")[0] == req.group


def test_every_requirement_is_tagged_on_a_scenario(catalogue: Catalogue, tagged: dict[str, list[str]]) -> None:
    missing = [rid for rid in catalogue.ids() if rid not in tagged]
    assert not missing, f"requirements without a @req-tagged scenario: {missing}"


def test_no_tag_names_an_unknown_requirement(catalogue: Catalogue, tagged: dict[str, list[str]]) -> None:
    unknown = {rid: where for rid, where in tagged.items() if rid not in catalogue}
    assert not unknown, f"@req tags naming IDs the catalogue does not have: {unknown}"


def test_every_scenario_names_a_requirement() -> None:
    untagged = [f"{s.feature}:{s.line} {s.name}" for s in scan_features(FEATURES) if not s.ids]
    assert not untagged, f"scenarios without any @req tag: {untagged}"


@pytest.mark.skipif(not REQUIREMENTS.is_file(), reason=f"shared spec not present at {REQUIREMENTS}")
def test_catalogue_matches_requirements_md(catalogue: Catalogue) -> None:
    expected = parse_markdown(REQUIREMENTS.read_text(encoding="utf-8"))
    assert list(expected.requirements) == list(catalogue.requirements), "IDs differ (order or set)"
    for rid, req in expected.requirements.items():
        assert catalogue[rid] == req, f"{rid} differs from REQUIREMENTS.md; regenerate harness/requirements.yaml"
    assert expected.groups == catalogue.groups


def test_parser_joins_wrapped_lines_and_expands_document_ranges() -> None:
    text = ("## ENA: enabling\n"
            "- ENA-2 (GUI): Network > Cloud Service Settings > Edit Settings > check Enable > choose the server >\n"
            "  Submit > Commit Changes (optional comment). [000-004]\n"
            "- ENA-3: the server choices. [002 003]\n")
    cat = parse_markdown(text)
    ena2 = cat["ENA-2"]
    assert ena2.qualifier == "GUI"
    assert ena2.statement.endswith("choose the server > Submit > Commit Changes (optional comment).")
    assert ena2.documents == ("000", "001", "002", "003", "004")
    assert cat["ENA-3"].documents == ("002", "003")


def test_parser_refuses_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        parse_markdown("## PRE: p\n- PRE-1: a [000]\n- PRE-1: b [001]\n")
