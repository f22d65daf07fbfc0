"""Reading a testbed file: YAML -> ``%ENV{NAME}`` resolution -> the validated :class:`Testbed`.

Every problem becomes one line ``<file>: <field path>: <what is wrong>`` of a single
:class:`TestbedError`; pydantic's own wording is translated so the line speaks about the file, not about
Python types. Values of secret fields and values read from the environment are never echoed.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .envsubst import Asker, Needed, Substitution, ask_on_terminal, dotted, every_field, substitute
from .errors import TestbedError
from .model import PYATS_FIELDS, SECRET_FIELDS, Testbed

# ---- YAML ---------------------------------------------------------------------------------------------
# Limits a testbed never comes near (the documented example: ~150 nodes, depth 6), far below what
# hurts: a 4 KB "billion laughs" expands to 10^8 nodes, and 50,000-deep nesting overflows the stack.
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000  # after alias expansion: what the %ENV walk and the validation would have to visit


class _LimitExceeded(Exception):
    """A bound of :func:`_parse_yaml` was crossed; the message is the line the user sees."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: two ``esa1:`` blocks would otherwise silently merge;
    and bounds nesting depth while composing (PyYAML's composer recurses once per level)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _LimitExceeded(f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels (the limit)")
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        finally:
            self._depth -= 1


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: let the base class report it
            break
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first written on line {first + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document has once every alias is expanded, stopping past :data:`MAX_NODES`.

    Aliases share one node, so this walks each distinct node once (memoised) and never builds the
    expansion: a billion-laughs document is measured in microseconds."""
    sizes: dict[int, int] = {}
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # iterative post-order: no recursion, whatever the shape
        node, done = stack.pop()
        if id(node) in sizes or (not done and id(node) in seen):
            continue  # done, or already on the way (an alias inside its own anchor: a cycle)
        seen.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            # A child without a size is an ancestor still on the way: a cycle, infinite once expanded.
            sizes[id(node)] = min(MAX_NODES + 1, 1 + sum(sizes.get(id(c), MAX_NODES + 1) for c in children))
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _load_bounded(text: str) -> Any:
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()  # type: ignore[no-untyped-call]
        if root is None:
            return None
        if _expanded_size(root) > MAX_NODES:
            raise _LimitExceeded(f"more than {MAX_NODES:,} values once its aliases (*name) are expanded (the "
                                 "limit; a YAML alias bomb?)")
        return loader.construct_document(root)  # type: ignore[no-untyped-call]
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]


def _parse_yaml(text: str, source: str) -> Any:
    if len(text) > MAX_BYTES:
        raise TestbedError(source, [f"larger than {MAX_BYTES // 1024} KiB (the limit for a testbed file)"])
    try:
        return _load_bounded(text)
    except _LimitExceeded as exc:
        raise TestbedError(source, [str(exc)]) from None
    except RecursionError:  # a shape the depth bound did not foresee: still one line, never a traceback
        raise TestbedError(source, [f"nested too deeply (the limit is {MAX_DEPTH} levels)"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = ": ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise TestbedError(source, [f"{where}YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise TestbedError(source, [f"YAML syntax error: {exc}"]) from None


# ---- pydantic errors -> file/field/message lines ----------------------------------------------------
def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names the model accepts at ``loc`` (for "did you mean" on unknown fields)."""
    tp: Any = Testbed
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return []
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _describe(value: Any, loc: tuple[Any, ...], hidden: set[str]) -> str:
    """How an error quotes the offending value; secrets only by type."""
    field = str(loc[-1]) if loc else ""
    if field in SECRET_FIELDS or (isinstance(value, str) and value in hidden):
        kind = {"str": "text", "int": "number", "float": "number", "bool": "boolean"}.get(type(value).__name__, "value")
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}, value hidden"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_WORDS = {
    "string_type": "must be text", "int_type": "must be an integer", "int_parsing": "must be an integer",
    "int_from_float": "must be an integer", "float_type": "must be a number", "float_parsing": "must be a number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping", "model_type": "must be a mapping", "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
}


def _message(err: Mapping[str, Any], hidden: set[str]) -> tuple[str, str]:
    loc = tuple(err.get("loc", ()))
    kind = err.get("type", "")
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = loc[:-1]
    path = dotted(loc[:-1] if is_key else loc)
    got = _describe(err.get("input"), loc, hidden)
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return path, "required field is missing"
    if kind == "extra_forbidden":
        known = _fields_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if (ours := PYATS_FIELDS.get(str(loc[-1]))) in known:
            return path, f"unknown field {loc[-1]!r} (pyATS's name for it): did you mean {ours!r}?"
        hint = f": did you mean {close[0]!r}?" if close else (f" (expected: {', '.join(known)})" if known else "")
        return path, f"unknown field{hint}"
    if kind == "literal_error":
        return path, f"must be one of {ctx.get('expected', '?')} (got {got})"
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error") or err.get("msg", ""))
        if "value hidden" in got:  # our validators quote the value: not when it is a secret
            text = re.sub(r" \(got .*\)$", " (value hidden)", text)
        return path, (f"name {got}: {text}" if is_key else text)
    if kind == "too_short" and isinstance(err.get("input"), dict):
        return path, "must not be empty"
    if kind in _TYPE_WORDS:
        hint = "; quote it in the YAML file" if kind == "string_type" and isinstance(err.get("input"), int | float) \
            else ""
        return path, f"{_TYPE_WORDS[kind]} (got {got}){hint}"
    msg = str(err.get("msg", "invalid value"))
    return path, f"{msg[:1].lower()}{msg[1:]} (got {got})"


def validation_problems(exc: ValidationError, hidden: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    found = [_message(err, set(hidden)) for err in exc.errors(include_url=False)]
    # A bad testbed.credentials value is inherited by every device: report it once, where it was written.
    inherited = {(path.removeprefix("testbed."), message) for path, message in found
                 if path.startswith("testbed.credentials.")}
    # ip: written for host: (pyATS) is said once, on the unknown field, not again as a missing host
    renamed = {f"{path.rpartition('.')[0]}.{PYATS_FIELDS[path.rpartition('.')[2]]}" for path, message in found
               if "(pyATS's name for it)" in message}
    out: list[str] = []
    for path, message in found:
        if path in renamed and message == "required field is missing":
            continue
        parts = path.split(".", 2)
        if parts[0] == "devices" and len(parts) == 3 and (parts[2], message) in inherited:
            continue
        line = f"{path}: {message}"
        if line not in out:
            out.append(line)
    return out


# ---- entry points -------------------------------------------------------------------------------------
def check_data(data: Any, source: str = "<testbed>", environ: Mapping[str, str] | None = None,
               base_dir: Path | None = None, check_files: bool = True, *, needed: Needed = every_field,
               ask: Asker | None = ask_on_terminal) -> tuple[Testbed, Substitution]:
    """Validate an already parsed YAML document; also say which markup was left unresolved (not needed).

    ``needed`` names the fields the caller uses (default: all): only those must resolve. ``ask`` asks for
    ``%ASK{}`` values (default: on the terminal; None: never, the markup stays).
    """
    if data is None:
        raise TestbedError(source, ["the file is empty: a testbed needs at least devices and cloud"])
    if not isinstance(data, dict):
        got = _describe(data, (), set())
        raise TestbedError(source, [f"must be a mapping with testbed, devices, cloud, ... (got {got})"])
    resolved, subst = substitute(data, os.environ if environ is None else environ, needed=needed, ask=ask)
    # Markup left in a value (unset, not asked) is validated as text; a field that must be a number or a
    # URL then fails, and the line that says why is the substitution's, not pydantic's.
    unresolved = {line.split(": ", 1)[0] for line in subst.problems} | set(subst.unset) | set(subst.deferred)
    problems: list[str] = []
    testbed: Testbed | None = None
    try:
        testbed = Testbed.model_validate(resolved, context={"base_dir": base_dir, "check_files": check_files})
    except ValidationError as exc:
        lines = validation_problems(exc, subst.resolved)
        failed = {line.split(": ", 1)[0] for line in lines}
        problems = [line for line in lines if line.split(": ", 1)[0] not in unresolved]
        problems += [f"{path}: environment variable {name} is not set" for path, name in subst.unset.items()
                     if path in failed]
        problems += [f"{path}: %ASK{{{prompt}}} must be answered to check this field" for path, prompt
                     in subst.deferred.items() if path in failed]
    problems += subst.problems
    if problems or testbed is None:
        raise TestbedError(source, problems or ["cannot be validated"])
    testbed._source = source
    testbed._env_values = frozenset(subst.resolved)
    return testbed, subst


def validate_data(data: Any, source: str = "<testbed>", environ: Mapping[str, str] | None = None,
                  base_dir: Path | None = None, check_files: bool = True, *, needed: Needed = every_field,
                  ask: Asker | None = ask_on_terminal) -> Testbed:
    """Validate an already parsed YAML document (``%ENV`` and ``%ASK`` resolved here)."""
    return check_data(data, source, environ, base_dir, check_files, needed=needed, ask=ask)[0]


def parse_testbed(text: str, source: str = "<testbed>", environ: Mapping[str, str] | None = None,
                  base_dir: Path | None = None, check_files: bool = True, *, needed: Needed = every_field,
                  ask: Asker | None = ask_on_terminal) -> Testbed:
    return validate_data(_parse_yaml(text, source), source, environ, base_dir, check_files, needed=needed, ask=ask)


def check_testbed(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None, *,
                  needed: Needed = every_field, ask: Asker | None = ask_on_terminal) -> tuple[Testbed, Substitution]:
    """:func:`load_testbed`, also returning what was left unresolved (``ctrlab testbed validate``)."""
    source = os.fspath(path)
    file = Path(source)
    try:
        with file.open("rb") as handle:  # read at most one byte past the cap: a huge file is never read whole
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise TestbedError(source, [f"larger than {MAX_BYTES // 1024} KiB (the limit for a testbed file)"])
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise TestbedError(source, ["no such file"]) from None
    except IsADirectoryError:
        raise TestbedError(source, ["is a directory, not a testbed file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TestbedError(source, [f"cannot be read: {exc}"]) from None
    data = _parse_yaml(text, source)
    return check_data(data, source, environ, base_dir=file.resolve().parent, needed=needed, ask=ask)


def load_testbed(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None, *,
                 needed: Needed = every_field, ask: Asker | None = ask_on_terminal) -> Testbed:
    """Load, resolve and validate a testbed file; raises :class:`TestbedError` naming file and field.

    By default every field must resolve; a command that uses only some passes ``needed``
    (:func:`harness.testbed.envsubst.fields_under`): the others keep their markup, unresolved.
    """
    return check_testbed(path, environ, needed=needed, ask=ask)[0]
