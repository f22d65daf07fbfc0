"""The release records: selection by kind and version, inferred fields named, and no release logic
anywhere else in the appliance simulator (issue 12 item 3)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from virtual_appliances.asyncos import cloudserviceconfig
from virtual_appliances.asyncos.releases import RELEASES, Release, release_for

ASYNCOS = Path(__file__).resolve().parents[4] / "virtual_appliances" / "asyncos"


@pytest.mark.parametrize(("kind", "version", "variant", "key"), [
    ("esa", "12.5.0-100", None, "esa-before-13.0.0-314"),
    ("esa", "13.0.0-285", None, "esa-before-13.0.0-314"),  # PRE-5: the build number decides
    ("esa", "not-a-version", None, "esa-before-13.0.0-314"),  # the control plane takes any string: the oldest line
    ("esa", "13.0.0-314", None, "esa-13.x"),
    ("esa", "13.0.0-392", None, "esa-13.x"),
    ("esa", "14.0.0-692", None, "esa-14.x"),
    ("esa", "16.0.1-10", None, "esa-14.x"),
    ("sma", "13.0.0-187", None, "sma-13.x"),
    ("sma", "14.3.0-120", None, "sma-14.x"),
    ("sma", "15.0.0-200", None, "sma-15.x"),
    ("gateway", "13.0.0-392", "securex", "gateway-securex"),
    ("gateway", "14.2.0-620", "cisco-cloud", "gateway-cisco-cloud"),
    ("gateway", "14.2.0-620", "unknown", "gateway-securex"),
])
def test_release_selection(kind: str, version: str, variant: str | None, key: str) -> None:
    assert release_for(kind, version, variant).key == key


def test_unknown_kind_is_one_clear_error() -> None:
    with pytest.raises(LookupError, match=r"no AsyncOS release record for wsa 15\.0"):
        release_for("wsa", "15.0")


def test_release_lines_do_not_overlap_and_keys_are_unique() -> None:
    assert len({r.key for r in RELEASES}) == len(RELEASES)
    for a in RELEASES:
        for b in RELEASES:
            if a is b or a.kind != b.kind or a.gateway_variant != b.gateway_variant:
                continue
            assert not (a.covers(b.first) or b.covers(a.first)), (a.key, b.key)


def test_inferred_names_real_fields_and_every_record_names_its_sources() -> None:
    names = {f.name for f in fields(Release)}
    for release in RELEASES:
        assert release.inferred <= names, release.key
        assert release.sources, release.key
    with pytest.raises(ValueError, match="inferred names no field"):
        Release(key="x", kind="esa", first=(1,), until=None, era="ctr", inferred=frozenset({"no_such_field"}))


def test_every_operation_a_release_names_is_registered() -> None:
    cloudserviceconfig.check_releases()
    for release in RELEASES:
        assert set(release.csc_verbs) <= set(cloudserviceconfig.OPERATIONS), release.key


def test_an_operation_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        cloudserviceconfig.operation("settrs", "settrs", (0, 0), lambda cli, args: True)(lambda cli: iter(()))


# Release logic outside releases.py: a comparison with a version tuple, an era or a version string.
RELEASE_LOGIC = re.compile(r"version_tuple\s*[<>=!]|\bera\s*[=!]=|[<>]=?\s*\(1[2-9]\b|version\.startswith"
                           r"|\.key\s*[=!]=\s*[\"'](?:esa|sma|gateway)")


def test_no_release_logic_outside_the_records() -> None:
    offenders = []
    for path in sorted(ASYNCOS.rglob("*.py")):
        if path.name == "releases.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if RELEASE_LOGIC.search(line):
                offenders.append(f"{path.relative_to(ASYNCOS)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
