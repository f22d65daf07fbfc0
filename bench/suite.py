"""Wall time of the conformance suite on the bundled simulators.

    python bench/suite.py [--runs 1] [-- extra pytest args, e.g. -k registration]

Runs ``python -m pytest features`` in a subprocess (one lab per session, as CI does), then prints the
wall time, the scenario count (outline examples count) and the per-scenario median and slowest
durations parsed from the junit XML. Target: >= 120 scenarios in <= 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SCENARIOS = 120
TARGET_SECONDS = 60.0
RUN_TIMEOUT_S = 900  # a hung suite must not hang the benchmark


@dataclass
class Case:
    name: str
    seconds: float
    outcome: str


def parse_junit(path: Path) -> list[Case]:
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
        cases.append(Case(f"{case.get('classname')}::{case.get('name')}", float(case.get("time") or 0), outcome))
    return cases


def run_once(extra: list[str]) -> tuple[float, list[Case], int]:
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider",
               f"--junitxml={junit}", *extra]
        started = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        wall = time.monotonic() - started
        if not junit.exists():
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"pytest wrote no junit XML (exit {proc.returncode})")
        return wall, parse_junit(junit), proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--slowest", type=int, default=5, help="show the N slowest scenarios")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args()
    walls = []
    for n in range(1, args.runs + 1):
        wall, cases, code = run_once(args.pytest_args)
        walls.append(wall)
        durations = [c.seconds for c in cases]
        by_outcome: dict[str, int] = {}
        for c in cases:
            by_outcome[c.outcome] = by_outcome.get(c.outcome, 0) + 1
        median = statistics.median(durations) if durations else 0.0
        print(f"run {n}: wall {wall:.1f} s, {len(cases)} scenarios "
              f"({', '.join(f'{v} {k}' for k, v in sorted(by_outcome.items()))}), "
              f"per-scenario median {median * 1000:.0f} ms, sum {sum(durations):.1f} s, pytest exit {code}")
        for c in sorted(cases, key=lambda c: c.seconds, reverse=True)[: args.slowest]:
            print(f"    {c.seconds:6.2f} s  {c.outcome:7}  {c.name}")
    best = min(walls)
    scenarios_ok = len(cases) >= TARGET_SCENARIOS
    time_ok = best <= TARGET_SECONDS
    print(f"target: >= {TARGET_SCENARIOS} scenarios ({'ok' if scenarios_ok else 'MISSED'}), "
          f"<= {TARGET_SECONDS:.0f} s ({'ok' if time_ok else 'MISSED'}; best {best:.1f} s)")
    return 0 if scenarios_ok and time_ok else 1


if __name__ == "__main__":
    sys.exit(main())
