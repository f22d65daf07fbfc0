"""Cold start and memory of the bundled simulator lab.

    python bench/sim_lab.py [--appliances 1 100] [--runs 3]

Starts `python -m virtual_appliances.lab` as `ctrlab sim up` does, measures the wall time until the
testbed is written and the control plane answers, and the resident memory (VmRSS and peak VmHWM) of
the lab process once ready. Targets (issue 2): 100 appliances ready <= 5 s and <= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml


def proc_memory_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def start_once(appliances: int, deadline_s: float = 60.0) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        testbed = Path(tmp) / "tb.yaml"
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "virtual_appliances.lab", "--appliances", str(appliances),
             "--testbed-out", str(testbed), "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        try:
            while not testbed.exists():
                if proc.poll() is not None:
                    raise RuntimeError(f"lab exited early: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                if time.monotonic() - started > deadline_s:
                    raise TimeoutError(f"lab not ready within {deadline_s}s")
                time.sleep(0.01)  # polling interval while waiting for the file, not a fixed wait
            control = yaml.safe_load(testbed.read_text())["testbed"]["simulator"]["control_url"]
            with urllib.request.urlopen(f"{control}/_sim/health", timeout=10) as resp:
                health = json.load(resp)
            ready = time.monotonic() - started
            assert health["appliances"] == appliances, health
            rss, hwm = proc_memory_mb(proc.pid)
            return {"ready_s": ready, "rss_mb": rss, "peak_mb": hwm}
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--appliances", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'appliances':>10} {'ready s (median)':>17} {'ready s (max)':>14} {'RSS MB':>8} {'peak MB':>8}")
    for n in args.appliances:
        runs = [start_once(n) for _ in range(args.runs)]
        ready = [r["ready_s"] for r in runs]
        print(f"{n:>10} {statistics.median(ready):>17.2f} {max(ready):>14.2f} "
              f"{max(r['rss_mb'] for r in runs):>8.0f} {max(r['peak_mb'] for r in runs):>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
