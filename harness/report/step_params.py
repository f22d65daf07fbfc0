"""What a Gherkin step shows as its parameters in the Allure report: its own arguments, nothing else.

allure-pytest-bdd records every argument of a step function as a step parameter, the fixtures too,
as ``repr()``: the ``world`` of a scenario (its lab, its device and the device's password) was written
into every step of every result. Only the arguments the step parsed from its own text belong there,
shown as the text they came from (``esa1``, not ``'esa1'``). This plugin hides the rest from Allure's
listener while it records the step; the step function itself still receives every argument.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

# pytest-bdd's reserved argument names: Allure attaches these as files, which is what a reader wants.
_ATTACHED = frozenset({"datatable", "docstring"})


class _Shown:
    """A parsed argument as a reader wants it: ``represent()`` and title formatting give its text."""

    __slots__ = ("text",)

    def __init__(self, value: object) -> None:
        self.text = str(value)

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self.text, spec)


def own_arguments(request: pytest.FixtureRequest, step_func_args: dict[str, Any]) -> set[str]:
    """The names of the arguments the step parsed from its text: those that are not fixtures."""
    fixtures = set(request.fixturenames)
    return {name for name in step_func_args if name not in fixtures or name in _ATTACHED}


@pytest.hookimpl(hookwrapper=True, tryfirst=True, optionalhook=True)
def pytest_bdd_before_step_call(request: pytest.FixtureRequest, step_func_args: dict[str, Any]
                                ) -> Generator[None, None, None]:
    # Every implementation of this hook (Allure's listener among them) sees the step's own arguments
    # only, as text; pytest-bdd calls the step with this same dict, so everything is put back after.
    original = dict(step_func_args)
    own = own_arguments(request, step_func_args)
    step_func_args.clear()
    step_func_args.update({name: value if name in _ATTACHED else _Shown(value)
                           for name, value in original.items() if name in own})
    try:
        yield
    finally:
        step_func_args.clear()
        step_func_args.update(original)
