"""Wall time of the network check (``harness.net.check``), healthy and with dropped FQDNs.

    python bench/netcheck.py [--timeout 2] [--runs 3] [--no-namespaces]

Loopback mode starts the bundled lab (``python -m virtual_appliances.lab``) and runs the check in this
process; namespace mode (root) builds appliance / firewall / cloud namespaces and runs the check from
the appliance namespace (``ip netns exec ... python -m harness.net``), where "elapsed" is the check's
own figure and "process" adds the interpreter start. Target (issue 6): with one FQDN dropped the check
takes at most 1.5x one probe timeout, because probes run concurrently.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.net import check
from harness.net.syn import load_scapy
from tests.harness.net.nslab import NamespaceLab
from tests.harness.net.support import EST, REGION_FQDN, RunningLab
from tests.support.running_lab import running_lab

ALL_FQDNS = [*REGION_FQDN.values(), EST]


def row(mode: str, case: str, timeout: float, times: list[float], extra: str = "") -> None:
    median = statistics.median(times)
    print(f"{mode:<22} {case:<34} {timeout:>9.2f} {median:>10.3f} {max(times):>8.3f} {median / timeout:>7.2f}  {extra}",
          flush=True)


def loopback(timeout: float, runs: int, emulated: bool) -> None:
    import os
    from unittest import mock

    env = {"CTRLAB_NETLAB_FIREWALL": "emulated"} if emulated else {}
    with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, env), running_lab(Path(tmp)) as tb:
        lab = RunningLab(tb, Path(tmp) / "testbed.yaml")
        mode = f"loopback ({lab.netlab()['firewall']['drop']})"
        check(lab.testbed, timeout=timeout, attach=False)  # warm-up: imports (scapy) are not the check

        def measure(case: str, setup: Callable[[], None], fqdns: list[str] | None = None) -> None:
            lab.reset()
            setup()
            reports = [check(lab.testbed, timeout=timeout, fqdns=fqdns, attach=False) for _ in range(runs)]
            verdicts = sorted({str(r.verdict) for rep in reports for r in rep.results})
            row(mode, case, timeout, [r.elapsed for r in reports], "/".join(verdicts))

        measure("healthy (nam: 2 FQDNs)", lambda: None)
        measure("one drop (api-sse)", lambda: lab.firewall("api-sse.cisco.com", "drop"))
        def drop_all() -> None:
            for fqdn in ALL_FQDNS:
                lab.firewall(fqdn, "drop")

        measure("4 FQDNs, all dropped", drop_all, ALL_FQDNS)
        lab.reset()


def in_namespaces(timeout: float, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, NamespaceLab(Path(tmp), ALL_FQDNS) as lab:
        lab.netcheck(timeout)  # warm-up (page cache for the interpreter and scapy)

        def measure(case: str, setup: Callable[[], None]) -> None:
            lab.reset()
            setup()
            checks = [lab.netcheck(timeout) for _ in range(runs)]
            verdicts = sorted({r["verdict"] for c in checks for r in c.report["results"]})
            process = statistics.median(c.wall for c in checks)
            row("namespaces (nftables)", case, timeout, [c.report["elapsed"] for c in checks],
                f"{'/'.join(verdicts)}; process {process:.2f} s")

        measure("healthy (nam: 2 FQDNs)", lambda: None)
        measure("one drop (api-sse)", lambda: lab.firewall("api-sse.cisco.com", "drop"))
        def drop_both() -> None:
            for fqdn in ("api-sse.cisco.com", EST):
                lab.firewall(fqdn, "drop")

        measure("both dropped (nam)", drop_both)
        lab.reset()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=2.0, help="probe timeout, seconds")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-namespaces", action="store_true")
    args = parser.parse_args()
    print(f"raw SYN probe: {load_scapy() or 'available'}")
    print(f"{'mode':<22} {'case':<34} {'timeout s':>9} {'elapsed s':>10} {'max s':>8} {'ratio':>7}  verdicts")
    loopback(args.timeout, args.runs, emulated=False)
    loopback(args.timeout, args.runs, emulated=True)
    if args.no_namespaces:
        return 0
    if not NamespaceLab.available():
        print("namespaces: skipped (needs root, ip and nft)")
        return 0
    in_namespaces(args.timeout, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
