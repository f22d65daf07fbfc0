"""The fact map (``features/facts.yaml``): each requirement of the catalogue broken into concrete facts, each fact
asserted by named scenarios. Checked against the feature files, rendered as ``docs/coverage.md``, and read
against an Allure results directory to tell which facts passed, failed or were not run on a lab::

    python -m harness.coverage --write docs/coverage.md     # regenerate the page
    python -m harness.coverage --check                       # exit 1 when the map and the features disagree
    python -m harness.coverage --results reports/allure-results
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .catalogue import load as load_catalogue

ROOT = Path(__file__).resolve().parents[1]
FACTS_PATH = ROOT / "features" / "facts.yaml"
FEATURES = ROOT / "features"
SOURCES = ("documented", "inferred")
_REQ = re.compile(r"@req:(\S+)")
_MANUAL = re.compile(r"@manual:\S+")


@dataclass(frozen=True)
class Fact:
    id: str
    req: str
    text: str
    source: str
    scenarios: tuple[str, ...]


@dataclass
class Scenario:
    title: str
    feature: str
    tags: set[str] = field(default_factory=set)

    @property
    def reqs(self) -> list[str]:
        return sorted({m.group(1) for t in self.tags for m in [_REQ.match(t)] if m})

    @property
    def real_gear(self) -> bool:
        """In the default real-gear selection: neither @manual nor @destructive."""
        return not any(_MANUAL.match(t) or t == "@destructive" for t in self.tags)


def load_facts(path: Path = FACTS_PATH) -> list[Fact]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [Fact(id=str(f["id"]), req=str(f["req"]), text=str(f["text"]), source=str(f["source"]),
                 scenarios=tuple(str(s) for s in f.get("scenarios") or ())) for f in data.get("facts") or []]


def scenarios_in(features: Path = FEATURES) -> dict[str, Scenario]:
    """Every scenario title of the feature files with its tags (the feature's, its own, its Examples')."""
    found: dict[str, Scenario] = {}
    for path in sorted(features.glob("*.feature")):
        feature_tags: set[str] = set()
        pending: set[str] = set()
        current: Scenario | None = None
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line.startswith("@"):
                pending |= set(line.split())
            elif line.startswith("Feature:"):
                feature_tags, pending = pending, set()
            elif line.startswith(("Scenario:", "Scenario Outline:")):
                current = Scenario(line.split(":", 1)[1].strip(), path.name, feature_tags | pending)
                found[current.title] = current
                pending = set()
            elif line.startswith("Examples") and current is not None:
                current.tags |= {t for t in pending if not t.startswith("@req:")}
                pending = set()
    return found


def problems(facts: Iterable[Fact] | None = None, features: Path = FEATURES) -> list[str]:
    """What is wrong with the map: unknown requirements or scenarios, facts without scenarios, requirements
    without facts, scenarios that do not carry the fact's requirement tag."""
    facts = list(load_facts() if facts is None else facts)
    catalogue = load_catalogue()
    scenarios = scenarios_in(features)
    out: list[str] = []
    seen_ids: set[str] = set()
    for fact in facts:
        if fact.id in seen_ids:
            out.append(f"{fact.id}: the id is used twice")
        seen_ids.add(fact.id)
        if fact.req not in catalogue:
            out.append(f"{fact.id}: requirement {fact.req} is not in the catalogue")
        if not fact.id.startswith(f"{fact.req}.f"):
            out.append(f"{fact.id}: a fact id is <requirement>.f<n>")
        if fact.source not in SOURCES:
            out.append(f"{fact.id}: source must be one of {SOURCES}")
        if not fact.scenarios:
            out.append(f"{fact.id}: no scenario asserts it")
        if len(set(fact.scenarios)) != len(fact.scenarios):
            out.append(f"{fact.id}: a scenario is listed twice")
        for title in fact.scenarios:
            if title not in scenarios:
                out.append(f"{fact.id}: no scenario titled {title!r}")
    covered = {f.req for f in facts}
    out += [f"{rid}: no fact in the map" for rid in catalogue.ids() if rid not in covered]
    return out


def render(facts: Iterable[Fact] | None = None, features: Path = FEATURES) -> str:
    facts = list(load_facts() if facts is None else facts)
    catalogue = load_catalogue()
    scenarios = scenarios_in(features)
    lines = ["# Coverage: documented facts and the scenarios that assert them", "",
             "Generated from `features/facts.yaml` by `python -m harness.coverage --write docs/coverage.md`; "
             "do not edit by hand. *real gear*: how many of the fact's scenarios are in the default real-gear "
             "selection (neither @manual nor @destructive).", ""]
    by_req: dict[str, list[Fact]] = {}
    for fact in facts:
        by_req.setdefault(fact.req, []).append(fact)
    documented = sum(f.source == "documented" for f in facts)
    lines += [f"{len(facts)} facts ({documented} documented, {len(facts) - documented} inferred) over "
              f"{len(by_req)} of {len(catalogue.ids())} requirements.", ""]
    for rid in catalogue.ids():
        req = catalogue[rid]
        lines += [f"## {rid}", "", f"> {req.statement}", "",
                  "| fact | source | text | scenarios | real gear |", "|---|---|---|---|---|"]
        for fact in by_req.get(rid, []):
            gear = sum(1 for t in fact.scenarios if t in scenarios and scenarios[t].real_gear)
            names = "<br>".join(t.replace("|", "\\|") for t in fact.scenarios)
            text = fact.text.replace("|", "\\|")
            lines.append(f"| {fact.id} | {fact.source} | {text} | {names} | {gear}/{len(fact.scenarios)} |")
        lines.append("")
    return "\n".join(lines)


@lru_cache(maxsize=256)
def _title_pattern(title: str) -> re.Pattern[str]:
    """An outline's title with its ``<placeholders>`` matching whatever an example filled in."""
    parts = re.split(r"<[^>]+>", title)
    return re.compile(".+?".join(re.escape(p) for p in parts) + r"\Z", re.DOTALL)


def fact_results(allure_dir: Path, facts: Iterable[Fact] | None = None) -> dict[str, str]:
    """Per fact: "passed" (every run of its scenarios passed), "failed" (one failed or broke), or "not run"
    (none of its scenarios ran, or all were skipped), from an Allure results directory."""
    facts = list(load_facts() if facts is None else facts)
    statuses: list[tuple[str, str]] = []
    for path in Path(allure_dir).glob("*-result.json"):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        statuses.append((str(body.get("name", "")), str(body.get("status", ""))))
    out: dict[str, str] = {}
    for fact in facts:
        seen = [status for name, status in statuses
                if any(name == t or _title_pattern(t).match(name) for t in fact.scenarios)]
        ran = [s for s in seen if s != "skipped"]
        if not ran:
            out[fact.id] = "not run"
        elif any(s in ("failed", "broken") for s in ran):
            out[fact.id] = "failed"
        else:
            out[fact.id] = "passed"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.coverage", description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the coverage page here")
    parser.add_argument("--check", action="store_true", help="exit 1 when the map and the features disagree")
    parser.add_argument("--results", type=Path, help="an Allure results directory: print each fact's verdict")
    args = parser.parse_args(argv)
    bad = problems()
    if args.check or bad:
        for line in bad:
            print(line, file=sys.stderr)
        if bad:
            return 1
    if args.write:
        args.write.write_text(render() + "\n", encoding="utf-8")
    if args.results:
        for fact_id, verdict in fact_results(args.results).items():
            print(f"{fact_id}\t{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
