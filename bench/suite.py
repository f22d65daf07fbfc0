"""Wall time of the conformance suite on the bundled simulators, serial and with ``-n 2``, in one run.

    python bench/suite.py [--runs 1] [--workers 2] [--kept-labs K] [-- extra pytest args, e.g. -k registration]

Runs ``python -m pytest features`` in a subprocess (the lab's start included, as a user runs it), then the same
with ``-n WORKERS``, and prints for each the wall time, the scenario count (outline examples count), the
per-scenario median and p95 parsed from the junit XML, the CPU time of the run (pytest, its workers and labs:
a figure other load on a shared machine inflates less than wall time) with the cores it kept busy on average,
its three phases (launch to the first scenario's start, the scenarios, the last one's end to pytest's exit:
``bench/plugins/phase_clock.py``), and the speed-up of ``-n`` over serial measured in the same run, next to the
most that run's CPU allows: no ``-n`` run ends before its CPU time spread over every core. The phases show where
``-n`` gains (the scenarios) and where it pays (its start: the controller and the fork server it starts, then
every worker and its lab, forks of that server, at once).
With ``-n 2`` it also starts two serial runs together, each with a lab of its own: how much more of this suite
the machine gets done with two at once than with one, the ceiling of any ``-n 2`` speed-up here.
Targets on a 2-core machine (issue 14): serial <= 12 s for the 205 scenarios, ``-n 2`` at least 1.5x faster
than serial.

With ``--kept-labs K`` it first starts K labs with ``ctrlab sim up`` (the embedded lab's fleet) and keeps them
for every run, as a lab engineer keeps a lab: the serial run uses the first (``--testbed``), the ``-n`` run all K
(``--testbed`` once per lab: K = 1 is one lab both workers share, K = workers a lab per worker). No lab starts
inside a measured run then, so the serial target (which counts the lab's start) is not judged.

It first measures the machine itself: how much more pure-Python work two processes do at once than one
(2.0 on two cores of their own). No ``-n 2`` run can beat that ratio; the suite's own (two serial runs at once,
above) is lower, and the ``-n 2`` speed-up is read against both.

Bytecode: the measured runs find the project's ``.pyc`` files written, as every run after a user's first does.
A machine that sets ``PYTHONDONTWRITEBYTECODE=1`` (as some CI images do) never writes them, so each process
(pytest, every xdist worker, every lab) would compile and assertion-rewrite ctrlab's modules again, about
0.4 s of CPU each: a cost of that setting, not of the suite. Untimed warm-up runs, one serial and one with ``-n``
(only its controller imports pytest-xdist, which pytest rewrites), with the setting lifted for them alone, write
them first; ``--no-warm-up`` measures without them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.plugins.phase_clock import PHASES_ENV  # noqa: E402
from tests.support.running_lab import started_lab  # noqa: E402 - the lab helper the tests use

TARGET_SCENARIOS = 205
TARGET_SECONDS = 12.0
TARGET_SPEEDUP = 1.5
RUN_TIMEOUT_S = 900  # a hung suite must not hang the benchmark
KEPT_FLEET = ["--appliances", "2", "--sma", "1", "--gateway", "1"]  # the embedded lab's (harness/session.py)
SIM_UP = [sys.executable, "-m", "harness.cli", "sim", "up", *KEPT_FLEET]
CPU_SECONDS: list[float] = []  # per run: CPU of pytest and everything it waited for (load-independent)
PHASE_PLUGIN = ["-p", "phase_clock"]  # bench/plugins/phase_clock.py, in the serial run and every xdist worker
SUITE = [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider"]  # every run the bench starts


@dataclass
class Phases:
    """A run's wall time in three parts; with xdist, from the first worker's first scenario to the last end."""

    start: float  # pytest's launch to the first scenario's start: imports, collection, the lab's start, workers
    scenarios: float  # the first scenario's start to the last one's end
    end: float  # the last scenario's end to pytest's exit: reports, the lab's stop


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


def children_cpu() -> float:
    """User + system CPU seconds of the waited-for child processes so far (pytest, its workers, their labs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def with_plugins(env: dict[str, str]) -> dict[str, str]:
    """``env`` with ``bench/plugins`` on ``PYTHONPATH``, for ``-p phase_clock``."""
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "bench" / "plugins"), env.get("PYTHONPATH"))
                                                 if p)}


def parse_phases(path: Path, started: float, ended: float) -> Phases | None:
    spans = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    if not spans:
        return None
    first, last = min(s["first"] for s in spans), max(s["last"] for s in spans)
    return Phases(first - started, last - first, ended - last)


def run_once(extra: list[str]) -> tuple[float, list[Case], int, Phases | None]:
    with tempfile.TemporaryDirectory() as tmp:
        junit, phases = Path(tmp) / "junit.xml", Path(tmp) / "phases.jsonl"
        cmd = [*SUITE, *PHASE_PLUGIN, f"--junitxml={junit}", *extra]
        env = {**with_plugins(dict(os.environ)), PHASES_ENV: str(phases)}
        started, cpu_before = time.monotonic(), children_cpu()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        ended = time.monotonic()
        CPU_SECONDS.append(children_cpu() - cpu_before)
        if not junit.exists():
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"pytest wrote no junit XML (exit {proc.returncode})")
        return ended - started, parse_junit(junit), proc.returncode, parse_phases(phases, started, ended)


@contextlib.contextmanager
def kept_labs(count: int) -> Iterator[list[Path]]:
    """``count`` labs started with ``ctrlab sim up`` and kept for the block; their testbeds."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as labs:
        testbeds = []
        for i in range(1, count + 1):
            (Path(tmp) / f"lab{i}").mkdir()
            _, testbed = labs.enter_context(started_lab(Path(tmp) / f"lab{i}", SIM_UP, cwd=ROOT))
            testbeds.append(testbed)
        yield testbeds


CALIBRATION = "n = 0\nfor i in range({loops}):\n    n += i * i % 7\n"  # pure-Python CPU work, no I/O


def parallel_capacity(loops: int = 6_000_000) -> tuple[float, float]:
    """(seconds one process takes for a fixed piece of pure-Python work, how many times that work two
    processes do in the same wall time when they run it at once). 2.0 on two idle cores of their own; less
    where the cores are shared (SMT siblings, a busy host). The suite's own ceiling (:func:`two_at_once`) is lower:
    its processes also share caches and take turns."""
    code = CALIBRATION.format(loops=loops)

    def run(count: int) -> float:
        started = time.monotonic()
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]
        for proc in procs:
            proc.wait(timeout=RUN_TIMEOUT_S)
        return time.monotonic() - started

    one = min(run(1) for _ in range(2))
    two = min(run(2) for _ in range(2))
    return one, 2 * one / two


def two_at_once(extra: list[str]) -> tuple[list[float], list[int]]:
    """Wall times of two serial runs of the suite started together, each with its own lab and reports folder:
    how this suite itself (pytest and its lab taking turns, loopback I/O, caches) shares the machine, as the two
    workers of ``-n 2`` and their labs do once they run scenarios, but without xdist's controller and workers."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        procs = [subprocess.Popen([*SUITE, "-o", f"ctrlab_reports_dir={Path(tmp) / str(i)}", *extra], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in (1, 2)]
        def wall_of(proc: subprocess.Popen[bytes]) -> float:
            proc.wait(timeout=RUN_TIMEOUT_S)
            return time.monotonic() - started

        try:
            with ThreadPoolExecutor(len(procs)) as pool:  # each run's own end, whichever ends first
                walls = list(pool.map(wall_of, procs))
        finally:
            for proc in procs:
                if proc.poll() is None:  # timed out: its lab stops with it (the lab's parent-death signal)
                    proc.kill()
                    proc.wait()
        return walls, [proc.returncode for proc in procs]


def warm_up(extra: list[str], workers: int) -> None:
    """Untimed runs that may write bytecode: ctrlab's modules and the lab's, and the assertion-rewritten modules
    of every kind of process measured (pytest-xdist's in the ``-n`` controller, scapy's ``test_pyx`` in whoever
    probes), so each is compiled once, not in every measured process."""
    env = with_plugins({k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    base = [*SUITE, *PHASE_PLUGIN, "--maxfail=1", *extra]
    runs = [["-k", "registration or network_check"]]
    if workers:
        runs.append(["-n", str(workers), "-k", "network_check"])
    for selection in runs:
        subprocess.run([*base, *selection], cwd=ROOT, env=env, capture_output=True, timeout=RUN_TIMEOUT_S, check=False)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0


def report(label: str, wall: float, cases: list[Case], code: int, slowest: int, kept: bool,
           phases: Phases | None) -> None:
    durations = [c.seconds for c in cases]
    by_outcome: dict[str, int] = {}
    for c in cases:
        by_outcome[c.outcome] = by_outcome.get(c.outcome, 0) + 1
    median = statistics.median(durations) if durations else 0.0
    print(f"{label}: wall {wall:.1f} s, {len(cases)} scenarios "
          f"({', '.join(f'{v} {k}' for k, v in sorted(by_outcome.items()))}), per-scenario median "
          f"{median * 1000:.0f} ms, p95 {p95(durations) * 1000:.0f} ms, pytest exit {code}")
    for c in sorted(cases, key=lambda c: c.seconds, reverse=True)[:slowest]:
        print(f"    {c.seconds:6.2f} s  {c.outcome:7}  {c.name}")
    if CPU_SECONDS:  # a figure the other load on a shared machine does not inflate as much as wall time
        whose = ("pytest and its workers; the kept labs are not its children" if kept
                 else "pytest, its workers and their labs")
        busy = "" if kept else f", {CPU_SECONDS[-1] / wall:.2f} cores busy on average"
        print(f"{label}: cpu {CPU_SECONDS[-1]:.1f} s (user + system of {whose}){busy}")
    if phases is not None:
        print(f"{label}: start {phases.start:.2f} s (launch to the first scenario), "
              f"scenarios {phases.scenarios:.2f} s, end {phases.end:.2f} s (the last scenario to exit)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers for the parallel run (0: skip)")
    parser.add_argument("--slowest", type=int, default=5, help="show the N slowest scenarios")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    parser.add_argument("--no-warm-up", action="store_true", help="measure without writing bytecode first")
    parser.add_argument("--kept-labs", type=int, default=0, metavar="K",
                        help="run on K labs kept running (ctrlab sim up), not on labs each run starts")
    args = parser.parse_args()
    if args.kept_labs:
        with kept_labs(args.kept_labs) as testbeds:
            return measure(args, testbeds)
    return measure(args, [])


def measure(args: argparse.Namespace, testbeds: list[Path]) -> int:
    if not args.no_warm_up:
        warm_up(args.pytest_args, args.workers)
    print(f"bytecode: {'as found' if args.no_warm_up else 'warm (untimed runs wrote it first)'}"
          f"{', PYTHONDONTWRITEBYTECODE set' if os.environ.get('PYTHONDONTWRITEBYTECODE') else ''}")
    if args.workers == 2:
        one, capacity = parallel_capacity()
        print(f"machine: two processes running pure-Python work at once do {capacity:.2f}x the work of one "
              f"({one:.2f} s alone)")
    if testbeds:
        print(f"labs: {len(testbeds)} kept running (ctrlab sim up {' '.join(KEPT_FLEET)}); serial on the first, "
              f"-n {args.workers} on {'it' if len(testbeds) == 1 else 'all of them'}")
    on_first = ["--testbed", str(testbeds[0])] if testbeds else []
    on_all = [arg for testbed in testbeds for arg in ("--testbed", str(testbed))]
    serial, parallel, counts = [], [], []
    for n in range(1, args.runs + 1):
        wall, cases, code, phases = run_once([*on_first, *args.pytest_args])
        serial.append(wall)
        counts.append(sum(c.outcome == "passed" for c in cases))
        report(f"run {n}, serial", wall, cases, code, args.slowest, bool(testbeds), phases)
        if args.workers:
            wall_n, cases_n, code_n, phases_n = run_once(["-n", str(args.workers), *on_all, *args.pytest_args])
            parallel.append(wall_n)
            report(f"run {n}, -n {args.workers}", wall_n, cases_n, code_n, args.slowest, bool(testbeds), phases_n)
            print(f"run {n}: -n {args.workers} speed-up over serial {wall / wall_n:.2f}x")
            if args.workers == 2 and not testbeds:  # on kept labs two serial runs would share the first lab
                together, codes = two_at_once(args.pytest_args)
                print(f"run {n}: two serial runs at once (pytest exit {codes[0]}, {codes[1]}) took {together[0]:.1f} s "
                      f"and {together[1]:.1f} s: this suite "
                      f"does {2 * wall / max(together):.2f}x the work of one serial run on this machine: about the "
                      f"most any -n 2 run reaches here, before xdist's own costs")
            if phases is not None and phases_n is not None:
                print(f"run {n}: -n {args.workers} runs the scenarios {phases.scenarios / phases_n.scenarios:.2f}x "
                      f"faster than serial; its start takes {phases_n.start - phases.start:+.2f} s and its end "
                      f"{phases_n.end - phases.end:+.2f} s more")
            if not testbeds:  # the kept labs' CPU is not counted: no bound to tell
                bound = CPU_SECONDS[-1] / len(os.sched_getaffinity(0))
                print(f"run {n}: -n {args.workers} cannot beat its CPU spread over every core ({bound:.1f} s): "
                      f"at most {wall / bound:.2f}x over this serial run")
    best = min(serial)
    ok = min(counts) >= TARGET_SCENARIOS and best <= TARGET_SECONDS
    if testbeds:  # no lab started in these runs: the serial target counts a lab's start
        ok = min(counts) >= TARGET_SCENARIOS
        print(f"serial on a kept lab: best {best:.1f} s, {min(counts)} passed (the serial target is for the default)")
    else:
        print(f"target serial: {TARGET_SCENARIOS} scenarios passed in <= {TARGET_SECONDS:.0f} s: "
              f"{'met' if ok else 'MISSED'} (best {best:.1f} s, {min(counts)} passed)")
    if parallel:
        speedup = max(s / p for s, p in zip(serial, parallel, strict=True))
        if testbeds:
            print(f"-n {args.workers} on {len(testbeds)} kept lab(s): best {speedup:.2f}x faster than serial on one "
                  f"(the target is judged on the default, where each run starts its labs)")
        else:
            print(f"target -n {args.workers}: >= {TARGET_SPEEDUP}x faster than serial: "
                  f"{'met' if speedup >= TARGET_SPEEDUP else 'MISSED'} (best {speedup:.2f}x)")
            ok = ok and speedup >= TARGET_SPEEDUP
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
