"""Lab loss benchmark (issue 13): how fast a run ends, and how it reports, when its lab dies or freezes mid-run.

A lab started with ``ctrlab sim up`` (the kept-lab way) serves ``pytest --testbed``; once ``--after``
scenarios have finished, the lab's process group is either killed (SIGKILL) or frozen (SIGSTOP: the lab's
sockets stay open and accept, nothing answers, which is what a hung appliance looks like). The benchmark
prints the seconds from the signal to the end of the run and the run's verdict line, for each mode:

    python bench/lab_loss.py                  # both modes, about 1-2 minutes
    python bench/lab_loss.py --modes frozen   # one mode

The target (issue 13): the run ends within its first timeouts plus 30 s, every scenario not run is reported
as not run (a lab fault), none as a conformance failure.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.running_lab import started_lab  # noqa: E402 - the lab helper the tests use

SIGNALS = {"killed": signal.SIGKILL, "frozen": signal.SIGSTOP}
RUN_DEADLINE_S = 900.0  # a run that outlives this is reported as hung


def measure(mode: str, after: int, workdir: Path) -> str:
    directory = workdir / mode
    directory.mkdir()
    command = [sys.executable, "-m", "harness.cli", "sim", "up", "--appliances", "1"]
    with started_lab(directory, command, cwd=ROOT) as (lab, testbed):
        run = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--testbed", str(testbed),
             "--alluredir", str(directory / "allure")],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert run.stdout is not None
        finished, signalled, output = 0, 0.0, []
        watchdog = threading.Timer(RUN_DEADLINE_S, run.kill)  # a hung run is killed, not waited on
        watchdog.start()
        # read a character at a time: pytest -q writes its progress marks without a newline
        for char in iter(lambda: run.stdout.read(1), ""):  # type: ignore[union-attr]
            output.append(char)
            if not signalled and char in ".FEsxX":
                finished += 1
                if finished >= after:
                    os.killpg(lab.pid, SIGNALS[mode])
                    signalled = time.monotonic()
        run.wait(timeout=60)
        watchdog.cancel()
        ended = time.monotonic()
    text = "".join(output)
    verdicts = re.findall(r"^ctrlab: \d+ conformance failures.*$", text, re.M)
    summary = text.strip().splitlines()[-1] if text.strip() else "(no output)"
    if not signalled:
        return f"{mode}: the run ended before {after} scenarios finished: {summary}"
    return (f"{mode}: run ended {ended - signalled:.1f} s after the lab was {mode} "
            f"(after {finished} scenarios); {verdicts[-1] if verdicts else 'no verdict line'}; {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", choices=sorted(SIGNALS), default=["killed", "frozen"])
    parser.add_argument("--after", type=int, default=20, help="scenarios to finish before the lab is lost")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ctrlab-lab-loss-") as workdir:
        for mode in args.modes:
            print(measure(mode, args.after, Path(workdir)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
