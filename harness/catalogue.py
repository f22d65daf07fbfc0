"""The conformance catalogue (REQUIREMENTS.md) carried as data, and what the feature files cover.

``harness/requirements.yaml`` is generated once from the project's REQUIREMENTS.md and committed, so the
harness knows every requirement ID, its statement and its source documents without the shared spec
directory being present::

    python -m harness.catalogue --from ../shared/REQUIREMENTS.md --write harness/requirements.yaml
    python -m harness.catalogue --check ../shared/REQUIREMENTS.md        # exit 1 when they differ
    python -m harness.catalogue --coverage features                      # IDs per scenario count

IDs are never renumbered; statements are kept word for word (wrapped lines joined with one space).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

CATALOGUE_PATH = Path(__file__).with_name("requirements.yaml")
ID_PATTERN = re.compile(r"^[A-Z]{2,4}-\d+$")
# "- ENA-2 (GUI): text ... [000-004]" ; the qualifier in parentheses is optional.
_ITEM = re.compile(r"^- (?P<id>[A-Z]{2,4}-\d+)(?: \((?P<qualifier>[^)]*)\))?: (?P<text>.*)$")
_GROUP = re.compile(r"^## (?P<key>[A-Z]{2,4}): (?P<title>.+)$")
_DOCS = re.compile(r"\s*\[(?P<docs>[0-9 \-]+)\]\s*$")
_TAG = re.compile(r"@req:(?P<id>\S+)")


@dataclass(frozen=True)
class Requirement:
    id: str
    group: str
    statement: str
    documents: tuple[str, ...]
    qualifier: str | None = None  # "GUI" / "CLI" where the catalogue names the interface

    @property
    def quote(self) -> str:
        """How a failure message quotes the requirement: ``ENA-4 (002 004 000): <statement>``."""
        docs = " ".join(self.documents)
        return f"{self.id} [{docs}]: {self.statement}"


@dataclass
class Catalogue:
    groups: dict[str, str] = field(default_factory=dict)
    requirements: dict[str, Requirement] = field(default_factory=dict)

    def __contains__(self, req_id: object) -> bool:
        return req_id in self.requirements

    def __getitem__(self, req_id: str) -> Requirement:
        return self.requirements[req_id]

    def ids(self) -> list[str]:
        return list(self.requirements)

    def to_data(self) -> dict:
        return {
            "source": "REQUIREMENTS.md",
            "groups": dict(self.groups),
            "requirements": [
                {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(r).items() if v is not None}
                for r in self.requirements.values()
            ],
        }

    @classmethod
    def from_data(cls, data: dict) -> Catalogue:
        cat = cls(groups=dict(data.get("groups", {})))
        for item in data.get("requirements", []):
            req = Requirement(id=item["id"], group=item["group"], statement=item["statement"],
                              documents=tuple(item.get("documents", ())), qualifier=item.get("qualifier"))
            cat.requirements[req.id] = req
        return cat


def _expand_documents(spec: str) -> tuple[str, ...]:
    """``"000 001 003"`` -> three IDs; ``"000-004"`` -> 000..004 (the catalogue's range notation)."""
    docs: list[str] = []
    for part in spec.split():
        if "-" in part:
            lo, hi = part.split("-", 1)
            docs += [f"{n:03d}" for n in range(int(lo), int(hi) + 1)]
        else:
            docs.append(part)
    return tuple(docs)


def parse_markdown(text: str) -> Catalogue:
    """Parse REQUIREMENTS.md: ``## KEY: title`` groups of ``- ID: statement [docs]`` items.

    An item continues on the following indented lines; wrapped lines are joined with one space.
    """
    cat = Catalogue()
    group: str | None = None
    pending: list[str] | None = None

    def flush() -> None:
        nonlocal pending
        if pending is None:
            return
        line = " ".join(pending)
        m = _ITEM.match(line)
        if m is None or group is None:
            raise ValueError(f"not a catalogue item: {line[:80]!r}")
        body = m.group("text")
        docs: tuple[str, ...] = ()
        if d := _DOCS.search(body):
            docs = _expand_documents(d.group("docs"))
            body = body[: d.start()]
        req = Requirement(id=m.group("id"), group=group, statement=body.strip(), documents=docs,
                          qualifier=m.group("qualifier"))
        if req.id in cat.requirements:
            raise ValueError(f"duplicate requirement ID {req.id}")
        cat.requirements[req.id] = req
        pending = None

    for raw in text.splitlines():
        if g := _GROUP.match(raw):
            flush()
            group = g.group("key")
            cat.groups[group] = g.group("title").strip()
            continue
        if raw.startswith("- ") and _ITEM.match(raw):
            flush()
            pending = [raw.strip()]
        elif pending is not None and raw.startswith("  ") and raw.strip():
            pending.append(raw.strip())
        else:
            flush()
    flush()
    return cat


@lru_cache(maxsize=1)
def load(path: Path = CATALOGUE_PATH) -> Catalogue:
    """The committed catalogue."""
    return Catalogue.from_data(yaml.safe_load(path.read_text(encoding="utf-8")))


def requirement_tags(tags: Iterable[str]) -> list[str]:
    """The requirement IDs among pytest marker / Gherkin tag names (``req:ENA-4`` or ``@req:ENA-4``)."""
    out = []
    for tag in tags:
        name = tag.lstrip("@")
        if name.startswith("req:"):
            out.append(name[4:])
    return out


@dataclass(frozen=True)
class TaggedScenario:
    feature: str
    line: int
    name: str
    ids: tuple[str, ...]


def scan_features(root: Path) -> list[TaggedScenario]:
    """Every Scenario / Scenario Outline of ``root/**/*.feature`` with the @req IDs that apply to it.

    A plain scan (not the Gherkin parser): tags on the lines above ``Feature:``, ``Rule:``,
    ``Scenario*:`` and ``Examples:`` accumulate the way Gherkin inherits them.
    """
    found: list[TaggedScenario] = []
    for path in sorted(root.rglob("*.feature")):
        found += _scan_file(path, str(path.relative_to(root)))
    return found


def _scan_file(path: Path, name: str) -> list[TaggedScenario]:
    found: list[TaggedScenario] = []
    pending: list[str] = []
    feature_ids: list[str] = []
    current: tuple[int, str, list[str]] | None = None  # line, scenario name, IDs

    def close(scenario: tuple[int, str, list[str]] | None) -> None:
        if scenario is not None:
            found.append(TaggedScenario(name, scenario[0], scenario[1], tuple(dict.fromkeys(scenario[2]))))

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("@"):
            pending += requirement_tags(line.split())
            continue
        keyword = line.split(":", 1)[0] if ":" in line else ""
        if keyword == "Feature":
            feature_ids, pending = pending, []
        elif keyword in ("Scenario", "Scenario Outline", "Scenario Template", "Example"):
            close(current)
            current = (number, line.split(":", 1)[1].strip(), [*feature_ids, *pending])
            pending = []
        elif keyword in ("Examples", "Scenarios") and current is not None:
            current[2].extend(pending)  # tags on an Examples table apply to its rows
            pending = []
        elif keyword in ("Rule", "Background"):
            pending = []
    close(current)
    return found


def coverage(root: Path, catalogue: Catalogue | None = None) -> dict[str, list[TaggedScenario]]:
    """Requirement ID -> the scenarios tagged with it (every catalogue ID present, maybe empty)."""
    cat = catalogue or load()
    out: dict[str, list[TaggedScenario]] = {rid: [] for rid in cat.ids()}
    for scenario in scan_features(root):
        for rid in scenario.ids:
            out.setdefault(rid, []).append(scenario)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.catalogue", description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", type=Path, help="REQUIREMENTS.md to parse")
    parser.add_argument("--write", type=Path, help="write the catalogue YAML here")
    parser.add_argument("--check", type=Path, help="compare the committed catalogue with this REQUIREMENTS.md")
    parser.add_argument("--coverage", type=Path, help="features directory: scenarios per requirement")
    args = parser.parse_args(argv)
    if args.source and args.write:
        cat = parse_markdown(args.source.read_text(encoding="utf-8"))
        header = ("# Generated from REQUIREMENTS.md by `python -m harness.catalogue --from ... --write ...`.\n"
                  "# IDs are stable and never renumbered; statements are word for word.\n")
        args.write.write_text(header + yaml.safe_dump(cat.to_data(), sort_keys=False, allow_unicode=True, width=10**6),
                              encoding="utf-8")
        print(f"{len(cat.requirements)} requirements written to {args.write}")
    if args.check:
        expected = parse_markdown(args.check.read_text(encoding="utf-8"))
        if expected.to_data() != load().to_data():
            print(f"{CATALOGUE_PATH} differs from {args.check}; regenerate it", file=sys.stderr)
            return 1
        print("catalogue matches")
    if args.coverage:
        for rid, scenarios in coverage(args.coverage).items():
            print(f"{rid:7} {len(scenarios):3}  " + ", ".join(f"{s.feature}:{s.line}" for s in scenarios[:4]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
