"""pytest-bdd's step lookup, memoised: the step definitions a scenario can see, gathered once.

For every step of every scenario pytest-bdd walks all fixture names of the session, asks pytest which
definitions of each are visible to the scenario, and tries the step parser of each step definition on the
step's text (``pytest_bdd.scenario.find_fixturedefs_for_step``): over a millisecond a step, 1,300 steps a
suite run. The visible step definitions depend only on where the scenario sits (its parent node: every
scenario of a module sees the same) and on the fixtures registered, so they are gathered once under those
keys (a fixture registered later, a different number of fixture names, gathers afresh), and the answer
for a step text is kept too. The filtering is pytest-bdd's own: step type, then ``parser.is_matching``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

_NEEDED = ("find_fixturedefs_for_step", "get_fixture_names", "getfixturedefs", "step_function_context_registry")


def install() -> Callable[[], None]:
    """Wrap ``pytest_bdd.scenario.find_fixturedefs_for_step``; returns the undo (a no-op if it is not there)."""
    try:  # the module, not the ``scenario`` function pytest_bdd exports under the same name
        bdd = importlib.import_module("pytest_bdd.scenario")
    except ImportError:
        return lambda: None
    if not all(hasattr(bdd, name) for name in _NEEDED) or getattr(bdd.find_fixturedefs_for_step, "_ctrlab", False):
        return lambda: None  # another pytest-bdd than the one this was written for, or installed already
    original = bdd.find_fixturedefs_for_step
    visible: dict[tuple[int, str, int], list[tuple[Any, Any]]] = {}
    matching: dict[tuple[int, str, int, object, str], list[Any]] = {}

    def step_definitions(fixturemanager: Any, node: Any, key: tuple[int, str, int]) -> list[tuple[Any, Any]]:
        if key not in visible:
            found = []
            for name in bdd.get_fixture_names(fixturemanager=fixturemanager):
                for fixturedef in bdd.getfixturedefs(fixturemanager, name, node) or []:
                    context = bdd.step_function_context_registry.get(fixturedef.func)
                    if context is not None:
                        found.append((fixturedef, context))
            visible[key] = found
        return visible[key]

    def find_fixturedefs_for_step(step: Any, fixturemanager: Any, node: Any) -> Iterable[Any]:
        names = getattr(fixturemanager, "_arg2fixturedefs", None)
        parent = getattr(node, "parent", None)
        if names is None or parent is None:
            return original(step=step, fixturemanager=fixturemanager, node=node)
        key = (id(fixturemanager), parent.nodeid, len(names))
        step_key = (*key, step.type, step.name)
        if step_key not in matching:
            matching[step_key] = [
                fixturedef for fixturedef, context in step_definitions(fixturemanager, node, key)
                if (context.type is None or context.type == step.type) and context.parser.is_matching(step.name)]
        return list(matching[step_key])

    find_fixturedefs_for_step._ctrlab = True  # type: ignore[attr-defined]
    bdd.find_fixturedefs_for_step = find_fixturedefs_for_step

    def undo() -> None:
        bdd.find_fixturedefs_for_step = original
        visible.clear()
        matching.clear()

    return undo
