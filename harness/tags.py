"""Gherkin tags -> pytest markers and Allure labels.

pytest-bdd turns a tag into a marker of the same name (``@req:PRE-1`` -> marker ``req:PRE-1``), which
``--strict-markers`` rejects and ``-m`` cannot select. The plugin maps tags through :func:`marks_for_tag`:

=====================  ==========================================================================
tag                    marker(s)
=====================  ==========================================================================
``@req:<ID>``          ``req("<ID>")`` (+ an Allure link named ``<ID>``, story and epic labels)
``@region:<r>``        ``region("<r>")``: needs ``cloud.sse.<r>`` on the testbed, else skipped
``@device:<kind>``     ``device("<kind>")``: needs an esa/sma/gateway on the testbed, else skipped
``@manual:<why>``      ``manual("<why>")``: needs a set-up only the simulators make; skipped on real gear
``@known:<why>``       ``xfail(strict=True)``: a known simulator gap against the documents (reported); the
                       scenario is right, so it fails loudly once the simulator is mended
``@epic:<x>``          Allure epic label ``x`` (overrides the default from the catalogue group)
``@story:<x>``         Allure story label ``x`` (overrides the default: the requirement IDs)
``@severity:<level>``  Allure severity (blocker|critical|normal|minor|trivial); default derived (plugin)
``@gui`` ``@cli``      ``gui`` / ``cli``: the interface the scenario drives
``@destructive``       ``destructive``: changes the appliance; real gear only with --allow-destructive
any other plain tag    an area marker of that name (``@registration``), registered on the fly,
                       unless it looks like a typo of a known tag (``@destrutive``): that is an error
=====================  ==========================================================================

Tags on ``Examples:`` tables bypass pytest-bdd's ``pytest_bdd_apply_tag`` hook (pytest-bdd#774): the
plugin accepts their raw names (:func:`accept_scheme_names`) and maps them at collection instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from .facts import KINDS, REGIONS

SCHEMES = ("req", "region", "device", "manual", "known", "epic", "story", "severity")
SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")  # Allure's severity levels
FLAGS = ("gui", "cli", "destructive")
REQ_ID = re.compile(r"[A-Z]{2,4}-\d+")
TAG_ERROR_MARK = "ctrlab_tag_error"

MARKERS: dict[str, str] = {
    "req(id)": "the scenario checks requirement <id> of the catalogue (Gherkin tag @req:<id>)",
    "region(name)": "the scenario uses the cloud of region nam|eu|apjc (@region:<name>)",
    "device(kind)": "the scenario needs an appliance of kind esa|sma|gateway (@device:<kind>)",
    "manual(reason)": "real gear needs a manual set-up for it; skipped there, run on the simulators (@manual:<why>)",
    "gui": "the scenario drives the appliance's web GUI (@gui)",
    "cli": "the scenario drives the appliance's SSH CLI (@cli)",
    "destructive": "changes the appliance's registration; on real gear only with --allow-destructive (@destructive)",
    f"{TAG_ERROR_MARK}(message)": "internal: a Gherkin tag the harness could not map",
    "allure_label": "allure label marker",
    "allure_link": "allure link marker",
}


class TagError(ValueError):
    """A tag that cannot be right (an unknown scheme, a bad value, a likely typo)."""


def readable(reason: str) -> str:
    """``needs-an-SMA`` -> ``needs an SMA`` (tags cannot contain spaces)."""
    return reason.replace("-", " ").replace("_", " ").strip()


def marks_for_tag(tag: str, register: Callable[[str], None] = lambda name: None) -> list[pytest.MarkDecorator]:
    """The markers a tag stands for; ``register(name)`` is called for an area tag before it is used."""
    name = tag.lstrip("@")
    scheme, colon, value = name.partition(":")
    if colon:
        if scheme not in SCHEMES:
            close = difflib.get_close_matches(scheme, SCHEMES, n=1, cutoff=0.6)
            hint = f"did you mean @{close[0]}:{value}? " if close else ""
            raise TagError(f"unknown tag @{name}: {hint}tag schemes are " + ", ".join(f"@{s}:" for s in SCHEMES))
        if not value:
            raise TagError(f"tag @{name} has no value after the colon")
        if scheme == "req":
            if not REQ_ID.fullmatch(value):
                raise TagError(f"tag @{name}: requirement IDs look like ENA-4")
            return [pytest.mark.req(value)]
        if scheme == "region":
            if value not in REGIONS:
                raise TagError(f"tag @{name}: the region is one of {', '.join(REGIONS)}")
            return [pytest.mark.region(value)]
        if scheme == "device":
            if value not in KINDS:
                raise TagError(f"tag @{name}: the device kind is one of {', '.join(KINDS)}")
            return [pytest.mark.device(value)]
        if scheme == "manual":
            return [pytest.mark.manual(readable(value))]
        if scheme == "severity":
            if value not in SEVERITIES:
                raise TagError(f"tag @{name}: the severity is one of {', '.join(SEVERITIES)}")
            return [pytest.mark.allure_label(value, label_type="severity")]
        if scheme == "known":
            return [pytest.mark.xfail(strict=True, reason=f"known simulator gap: {readable(value)}")]
        return [pytest.mark.allure_label(readable(value), label_type=scheme)]  # epic, story
    if name == "manual":
        raise TagError("tag @manual needs a reason: @manual:<what-must-be-set-up-by-hand>")
    if name in FLAGS or name in SCHEMES:
        return [getattr(pytest.mark, name)]
    close = difflib.get_close_matches(name, [*FLAGS, *SCHEMES], n=1, cutoff=0.8)
    if close:
        raise TagError(f"unknown tag @{name}: did you mean @{close[0]}?")
    register(name)  # an area tag (@registration): registered, so --strict-markers and -m accept it
    return [getattr(pytest.mark, name)]


def area_tags(features: Path) -> dict[str, list[str]]:
    """The area tags (``@registration``) the feature files under ``features`` use -> the files using them.

    Registered at configure time, so ``pytest --markers`` lists them and ``-m registration`` works
    before collection; tags that are schemes, flags or likely typos are left to :func:`marks_for_tag`.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(features.rglob("*.feature")) if features.is_dir() else []:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            text = line.split("#", 1)[0].strip()
            if not text.startswith("@"):
                continue
            for tag in text.split():
                name = tag.lstrip("@")
                if not tag.startswith("@") or ":" in name or name in FLAGS or name in SCHEMES:
                    continue
                if difflib.get_close_matches(name, [*FLAGS, *SCHEMES], n=1, cutoff=0.8):
                    continue  # a typo: the collection reports it
                files = found.setdefault(name, [])
                if path.name not in files:
                    files.append(path.name)
    return found


def is_scheme_name(name: str) -> bool:
    return ":" in name and name.partition(":")[0] in SCHEMES


class _SchemeAwareNames(set):  # type: ignore[type-arg]
    """pytest's set of known marker names, also accepting ``req:...``, ``region:...``, ... raw names."""

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or (isinstance(name, str) and is_scheme_name(name))


def accept_scheme_names() -> Callable[[], None]:
    """Let ``--strict-markers`` accept raw scheme names from ``Examples:`` tags until the returned undo."""
    from _pytest.mark.structures import MARK_GEN

    previous = getattr(MARK_GEN, "_markers", None)
    if not isinstance(previous, set):  # pytest changed its internals: Examples tags need registering by hand
        return lambda: None
    MARK_GEN._markers = _SchemeAwareNames(previous)

    def undo() -> None:
        MARK_GEN._markers = previous

    return undo
