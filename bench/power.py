"""The suite's power: break one documented fact of the simulators at a time and see which scenarios turn red.

Each fault of ``bench/faults.yaml`` is a text substitution in one file of a COPY of ``virtual_appliances/`` (the
real tree is never edited). For each fault: copy, apply, start a lab from the copy (``PYTHONPATH`` = the copy
only; a canary checks the lab's interpreter imports the copy), run the scenarios of the fault's requirement
(every scenario tagged ``@req:<ID>``, see ``features/facts.yaml``) twice against it with ``--testbed``, stop.
A fault is caught when a scenario fails in both runs. Prints per fault, the kill rate for the whole suite and
for the real-gear selection (neither @manual nor @destructive), and the faults resting on one scenario::

    python bench/power.py                     # every fault
    python bench/power.py --sample 8 --seed 3 # a rotating sample (CI)
    python bench/power.py --jobs 2 --only REG-1.f3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_bdd.scenario import make_python_name  # noqa: E402

from harness.coverage import load_facts, scenarios_in  # noqa: E402
from tests.support.running_lab import running_lab  # noqa: E402

FAULTS_PATH = ROOT / "bench" / "faults.yaml"
RUN_TIMEOUT_S = 900
RUNS = 2


@dataclass(frozen=True)
class Fault:
    id: str
    fact: str
    req: str
    file: str  # relative to virtual_appliances/
    old: str
    new: str


@dataclass
class Verdict:
    fault: Fault
    caught_by: list[str] = field(default_factory=list)  # scenarios red in every run
    gear_caught_by: list[str] = field(default_factory=list)
    ran: int = 0
    error: str = ""

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


def load_faults(path: Path = FAULTS_PATH) -> list[Fault]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [Fault(**{k: str(v) for k, v in item.items()}) for item in data.get("faults") or []]


def check_faults(faults: list[Fault]) -> list[str]:
    """Each fault applies to exactly one place of the real tree's file, names a known fact, and every fact of
    the map has at least one fault."""
    facts = {f.id: f for f in load_facts()}
    scenarios = scenarios_in()
    out = []
    for fact in facts.values():  # power runs a fault against its requirement's scenarios only
        out += [f"{fact.id}: scenario {t!r} does not carry @req:{fact.req}, so no fault of {fact.id} runs it"
                for t in fact.scenarios if t in scenarios and fact.req not in scenarios[t].reqs]
    for fault in faults:
        path = ROOT / "virtual_appliances" / fault.file
        if fault.fact not in facts:
            out.append(f"{fault.id}: no fact {fault.fact}")
        elif facts[fault.fact].req != fault.req:
            out.append(f"{fault.id}: fact {fault.fact} belongs to {facts[fault.fact].req}, not {fault.req}")
        if not path.is_file():
            out.append(f"{fault.id}: no file virtual_appliances/{fault.file}")
        elif path.read_text(encoding="utf-8").count(fault.old) != 1:
            out.append(f"{fault.id}: the text to replace is not found exactly once in {fault.file}")
    return out


def facts_without_fault(faults: list[Fault]) -> list[str]:
    have = {f.fact for f in faults}
    return [f.id for f in load_facts() if f.id not in have]


@contextlib.contextmanager
def broken_copy(fault: Fault) -> Iterator[Path]:
    """A temp dir holding a copy of virtual_appliances/ with the fault applied."""
    tmp = Path(tempfile.mkdtemp(prefix="ctrlab-power-"))
    try:
        shutil.copytree(ROOT / "virtual_appliances", tmp / "virtual_appliances",
                        ignore=shutil.ignore_patterns("__pycache__", "*.qcow2"))
        target = tmp / "virtual_appliances" / fault.file
        text = target.read_text(encoding="utf-8")
        if text.count(fault.old) != 1:
            raise ValueError(f"{fault.id}: the text to replace is not found exactly once in {fault.file}")
        target.write_text(text.replace(fault.old, fault.new), encoding="utf-8")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _lab_env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)  # the simulators never import harness: the copy alone is enough
    env["PYTHONUNBUFFERED"] = "1"
    return env


def canary(copy: Path) -> None:
    """The lab's interpreter, with the lab's environment and working directory, imports the copy."""
    out = subprocess.run([sys.executable, "-c", "import virtual_appliances; print(virtual_appliances.__file__)"],
                         cwd=copy, env=_lab_env(copy), capture_output=True, text=True, timeout=60, check=True)
    if not out.stdout.strip().startswith(str(copy)):
        raise RuntimeError(f"the lab would import {out.stdout.strip()}, not the broken copy in {copy}")


@contextlib.contextmanager
def lab_from(copy: Path) -> Iterator[Path]:
    """A lab (one ESA, one SMA, one gateway) started from the broken copy; yields its testbed file."""
    with running_lab(copy, "--appliances", "1", "--sma", "1", "--gateway", "1", cwd=copy, env=_lab_env(copy)):
        yield copy / "testbed.yaml"


def selection(req: str) -> tuple[list[str], set[str]]:
    """The scenarios of a requirement, as pytest -k names, and the titles in the real-gear selection."""
    scenarios = [s for s in scenarios_in().values() if req in s.reqs]
    return [s.title for s in scenarios], {s.title for s in scenarios if s.real_gear}


def known_gaps() -> set[str]:
    """Titles of the @known scenarios: expected to fail (xfail strict) until the simulator is mended."""
    return {s.title for s in scenarios_in().values() if any(tag.startswith("@known:") for tag in s.tags)}


def run_once(testbed: Path, titles: list[str], junit: Path) -> dict[str, str]:
    """Run the titles' scenarios against the lab; per pytest test id, its outcome."""
    names = sorted({"test_" + make_python_name(t) for t in titles})
    expr = " or ".join(names)
    cmd = [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider", "--testbed",
           str(testbed), "-k", expr, "--junitxml", str(junit), "-o", "junit_family=xunit2",
           # each run its own report directories: runs in parallel (--jobs) must not clean each other's
           "--alluredir", str(junit.with_suffix(".allure")),
           "-o", f"ctrlab_reports_dir={junit.with_suffix('.reports')}"]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    if done.returncode not in (0, 1) or not junit.exists():  # 0 all passed, 1 some failed: anything else is no run
        raise RuntimeError(f"the scenarios did not run (pytest exit {done.returncode}): "
                           f"{(done.stdout + done.stderr).strip()[-400:]}")
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        if name.split("[", 1)[0] not in names:
            continue  # -k matches substrings: a longer title that merely starts like one of ours
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = "failed"
        elif case.find("skipped") is not None:
            outcomes[name] = "skipped"
        else:
            outcomes[name] = "passed"
    return outcomes


def _title_of(test_name: str, titles: list[str]) -> str:
    base = test_name.split("[", 1)[0]
    return next((t for t in titles if "test_" + make_python_name(t) == base), base)


def measure(fault: Fault) -> Verdict:
    verdict = Verdict(fault)
    titles, gear = selection(fault.req)
    try:
        with broken_copy(fault) as copy:
            canary(copy)
            with lab_from(copy) as testbed:
                runs = [run_once(testbed, titles, copy / f"junit-{n}.xml") for n in range(RUNS)]
    except Exception as exc:  # a fault that breaks the lab itself is reported, not counted as caught
        verdict.error = f"{type(exc).__name__}: {exc}"[:300]
        return verdict
    verdict.ran = len(runs[0])
    red = set.intersection(*({n for n, o in run.items() if o == "failed"} for run in runs)) if runs else set()
    verdict.caught_by = sorted({_title_of(n, titles) for n in red})
    verdict.gear_caught_by = [t for t in verdict.caught_by if t in gear]
    return verdict


def report(verdicts: list[Verdict]) -> str:
    lines = []
    for v in verdicts:
        state = "ERROR " + v.error if v.error else ("caught" if v.caught else "NOT CAUGHT")
        lines.append(f"{v.fault.id:<14} {v.fault.fact:<10} {state}" + (f"  by {len(v.caught_by)}: "
                     + "; ".join(v.caught_by[:4]) + (" ..." if len(v.caught_by) > 4 else "") if v.caught else ""))
    counted = [v for v in verdicts if not v.error]
    if counted:
        whole = sum(v.caught for v in counted)
        gear = sum(bool(v.gear_caught_by) for v in counted)
        lines += ["", f"kill rate, whole suite:        {whole}/{len(counted)} = {100 * whole / len(counted):.0f}%",
                  f"kill rate, real-gear selection: {gear}/{len(counted)} = {100 * gear / len(counted):.0f}%"]
        single = [v.fault.id for v in counted if len(v.caught_by) == 1]
        lines.append(f"faults resting on one scenario: {len(single)}" + (f" ({', '.join(single)})" if single else ""))
        ran = {t for v in counted for t in selection(v.fault.req)[0]}
        red = {t for v in counted for t in v.caught_by}
        known = {t for t in ran if t in known_gaps()}
        idle = sorted(ran - red - known)
        lines.append(f"scenarios run that no fault turned red: {len(idle)} of {len(ran)}"
                     + "".join(f"\n  - {t}" for t in idle))
        if known:  # xfail(strict): a broken simulator leaves them failing as expected; only mending it turns them red
            lines.append(f"known simulator gaps (@known, xfail), not counted: {len(known)}"
                         + "".join(f"\n  - {t}" for t in sorted(known)))
    errors = [v for v in verdicts if v.error]
    if errors:
        lines.append(f"faults that broke the lab (not counted): {len(errors)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, help="measure N faults chosen with --seed (CI rotates the seed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="faults measured at once (each starts its own lab)")
    parser.add_argument("--only", nargs="*", help="fault or fact ids")
    parser.add_argument("--check", action="store_true", help="only check the fault list against the tree and map")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a measured fault is not caught (CI)")
    parser.add_argument("--json", type=Path, help="also write the verdicts here (fault, fact, caught_by, ...)")
    args = parser.parse_args(argv)
    faults = load_faults()
    bad = check_faults(faults)
    missing = facts_without_fault(faults)
    if args.check or bad:
        for line in bad:
            print(line, file=sys.stderr)
        print(f"{len(faults)} faults; facts without a fault: {len(missing)}" + (f" ({', '.join(missing)})"
              if missing else ""))
        return 1 if bad else 0
    if args.only:
        faults = [f for f in faults if f.id in args.only or f.fact in args.only]
    if args.sample:
        faults = random.Random(args.seed).sample(faults, min(args.sample, len(faults)))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        verdicts = list(pool.map(measure, faults))
    print(report(verdicts))
    missed = [v.fault.id for v in verdicts if v.error or not v.caught]
    if args.json:
        args.json.write_text(json.dumps([{"fault": v.fault.id, "fact": v.fault.fact, "req": v.fault.req,
                                          "caught_by": v.caught_by, "gear_caught_by": v.gear_caught_by,
                                          "ran": v.ran, "error": v.error} for v in verdicts], indent=1))
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
