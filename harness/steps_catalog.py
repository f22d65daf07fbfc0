"""The step vocabulary, introspected from the step library (``ctrlab steps``).

:func:`list_steps` imports the step modules of ``steps/`` and reads what pytest-bdd registered for
them: the keyword (Given / When / Then, or any), the sentence pattern, its parameters (quoted
arguments, bare choices, and the ``datatable`` / ``docstring`` a step takes) and the docstring of the
step function. Nothing is executed and no lab is needed.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass, field

from pytest_bdd.steps import step_function_context_registry

_QUOTED = re.compile(r"""\(\?P<(\w+)>"\[\^"\]\*"\|'\[\^'\]\*'\)""")
_CHOICE = re.compile(r"\(\?P<(\w+)>([^()]*)\)")
_GROUP_NAMES = re.compile(r"\(\?P<(\w+)>")


@dataclass(frozen=True)
class StepInfo:
    keyword: str  # Given | When | Then | Any
    pattern: str  # readable: "I open {path} in the GUI", <interface: GUI|CLI>
    parameters: tuple[str, ...]  # sentence arguments, then datatable / docstring when the step takes them
    doc: str  # the step function's docstring (first paragraph), may be empty
    module: str
    function: str
    regex: str = field(default="", compare=False)  # the parser's pattern as pytest-bdd matches it

    def as_dict(self) -> dict[str, object]:
        return {"keyword": self.keyword, "pattern": self.pattern, "parameters": list(self.parameters),
                "doc": self.doc, "module": self.module, "function": self.function}


def readable(pattern: str) -> str:
    """Turn a step regex back into the sentence a feature writer types."""
    text = pattern.replace(r"-?\d+", "N").replace(r"\d+", "N")
    text = _QUOTED.sub(lambda m: "{" + m.group(1) + "}", text)
    text = _CHOICE.sub(lambda m: f"<{m.group(1)}: {m.group(2).replace(chr(92), '')}>", text)
    text = text.replace("(?:send|sent)", "send|sent").replace("(?:try to )?", "[try to] ")
    text = text.replace("tokens?", "token(s)")
    return text


def step_modules() -> tuple[str, ...]:
    """The step library's modules, from its one list (``steps.STEP_MODULES``)."""
    return tuple(importlib.import_module("steps").STEP_MODULES)


def list_steps(modules: tuple[str, ...] | list[str] | None = None) -> list[StepInfo]:
    """Every step the given modules (default: the step library's) define, in module order, then by keyword and
    pattern."""
    modules = step_modules() if modules is None else modules
    for name in modules:
        importlib.import_module(name)
    found: list[StepInfo] = []
    for context in list(step_function_context_registry.values()):
        func = context.step_func
        module = getattr(func, "__module__", "")
        if module not in modules:
            continue
        raw = getattr(context.parser, "name", str(context.parser))
        regex = getattr(getattr(context.parser, "regex", None), "pattern", "") or raw
        params = list(dict.fromkeys(_GROUP_NAMES.findall(regex)))
        signature = inspect.signature(func).parameters
        params += [p for p in ("datatable", "docstring") if p in signature]
        doc = (inspect.getdoc(func) or "").split("\n\n", 1)[0].replace("\n", " ")
        keyword = (context.type or "any").capitalize()
        found.append(StepInfo(keyword, readable(raw), tuple(params), doc, module, func.__name__, regex))
    order = {m: i for i, m in enumerate(modules)}
    kw = {"Given": 0, "When": 1, "Any": 2, "Then": 3}
    found.sort(key=lambda s: (order.get(s.module, 99), kw.get(s.keyword, 9), s.pattern))
    return found


def format_steps(steps: list[StepInfo]) -> str:
    """A plain-text listing, grouped by module (what ``ctrlab steps`` prints)."""
    lines: list[str] = []
    current = None
    for s in steps:
        if s.module != current:
            current = s.module
            lines.append(f"\n# {current.rsplit('.', 1)[-1]}")
        extra = [p for p in s.parameters if p in ("datatable", "docstring")]
        suffix = "  + " + " + ".join(extra) if extra else ""
        lines.append(f"{s.keyword:6} {s.pattern}{suffix}")
        if s.doc:
            lines.append(f"       {s.doc}")
    return "\n".join(lines).lstrip("\n")


if __name__ == "__main__":
    print(format_steps(list_steps()))
