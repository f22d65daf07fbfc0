"""A misspelt step fails in one line naming the feature file and line, with the nearest known sentence."""

from __future__ import annotations

import pytest

from tests.harness.support import make_project, run

pytest_plugins = ["pytester"]


FEATURE = """\
    Feature: Buttons
      Scenario: Pressing
        Given a fresh appliance
        When I press the buton labelled "Commit"
        Then the page says "done"
"""

STEPS = r'''
@given("a fresh appliance")
def fresh():
    pass


@when(parsers.re(r"""I press the button labelled (?P<label>"[^"]*"|'[^']*')"""))
def press(label):
    pass


@when("I wait for the clock")
def wait():
    pass


@then(parsers.parse('the page says "{text}"'))
def says(text):
    pass
'''


def test_a_misspelt_step_names_file_line_and_the_nearest_sentence(pytester: pytest.Pytester) -> None:
    make_project(pytester, FEATURE, STEPS)
    result = run(pytester, "-q", "--backend", "sim")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    line = 'features/demo.feature:4: unknown step: When I press the buton labelled "Commit"; ' \
           "did you mean: I press the button labelled {label}"
    assert line in out, out[-3000:]
    assert "Step definition is not found" not in out, out[-3000:]


def test_a_step_like_nothing_known_points_at_the_vocabulary(pytester: pytest.Pytester) -> None:
    make_project(pytester, FEATURE.replace('I press the buton labelled "Commit"', "zzz qqq xxx"), STEPS)
    result = run(pytester, "-q", "--backend", "sim")
    result.assert_outcomes(failed=1)
    assert "features/demo.feature:4: unknown step: When zzz qqq xxx; `ctrlab steps` lists the vocabulary" \
        in result.stdout.str(), result.stdout.str()[-3000:]
