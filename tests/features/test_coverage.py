"""The fact map: every catalogue requirement broken into facts, each asserted by an existing scenario, the
page current, and an Allure run read back per fact."""

from __future__ import annotations

import json
from pathlib import Path

from harness import coverage
from harness.coverage import Fact, fact_results, load_facts, problems, render

ROOT = Path(__file__).resolve().parents[2]


def test_every_fact_has_existing_scenarios_and_every_requirement_has_facts() -> None:
    assert problems() == []


def test_docs_coverage_is_current() -> None:
    page = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert page == render() + "\n", "regenerate: python -m harness.coverage --write docs/coverage.md"


def test_a_fact_naming_a_missing_scenario_is_reported() -> None:
    bad = [*load_facts(), Fact("VER-8.f9", "VER-8", "x", "documented", ("No such scenario",))]
    assert any("VER-8.f9: no scenario titled" in p for p in problems(bad))


def test_fact_results_from_allure(tmp_path: Path) -> None:
    facts = [Fact("REG-1.f3", "REG-1", "default 1 hour", "documented",
                  ("The default token expiration time is 1 hour",)),
             Fact("REG-1.f2", "REG-1", "choices", "documented",
                  ("A token can be generated for every documented expiration time (<expiry>)",)),
             Fact("VER-8.f2", "VER-8", "sma web", "documented", ("An SMA Web module cannot be configured",))]
    results = [("The default token expiration time is 1 hour", "passed"),
               ("A token can be generated for every documented expiration time (2 hours)", "passed"),
               ("A token can be generated for every documented expiration time (1 day)", "failed")]
    for n, (name, status) in enumerate(results):
        (tmp_path / f"{n}-result.json").write_text(json.dumps({"name": name, "status": status}))
    assert fact_results(tmp_path, facts) == {"REG-1.f3": "passed", "REG-1.f2": "failed", "VER-8.f2": "not run"}


def test_cli_check_exits_zero() -> None:
    assert coverage.main(["--check"]) == 0
