"""The memoised pytest-bdd step lookup (harness/bdd_lookup.py) finds what pytest-bdd itself finds."""

from __future__ import annotations

import importlib

import pytest

from harness import bdd_lookup
from tests.harness.support import make_project, run

pytest_plugins = ["pytester"]

FEATURE = """\
    Feature: Lookup
      Scenario Outline: Pressing <label>
        Given a fresh appliance
        When I press "<label>"
        Then the press of "<label>" was seen by the <definition> definition

        Examples:
          | label  | definition |
          | Commit | general    |
          | Cancel | general    |
          | Commit | general    |
"""

STEPS = r'''
PRESSED = []


@given("a fresh appliance")
def fresh():
    PRESSED.clear()


@when(parsers.parse('I press "{label}"'))
def press(label):
    PRESSED.append(label)


@then(parsers.parse('the press of "{label}" was seen by the {definition} definition'))
def seen(label, definition):
    assert PRESSED == [label], PRESSED
'''


def test_every_scenario_finds_its_step_definitions_when_the_lookup_is_remembered(pytester: pytest.Pytester) -> None:
    make_project(pytester, FEATURE, STEPS)
    result = run(pytester, "-q", "--backend", "sim")
    result.assert_outcomes(passed=3)


def test_the_lookup_is_installed_once_and_undone() -> None:
    module = importlib.import_module("pytest_bdd.scenario")
    before = module.find_fixturedefs_for_step
    undo = bdd_lookup.install()
    try:
        wrapped = module.find_fixturedefs_for_step
        assert getattr(wrapped, "_ctrlab", False) or getattr(before, "_ctrlab", False)
        bdd_lookup.install()()  # a nested session's install does nothing, and neither does its undo
        assert module.find_fixturedefs_for_step is wrapped
    finally:
        undo()
    assert module.find_fixturedefs_for_step is before
