"""``ctrlab doctor --testbed FILE``: the read-only diagnosis; exit 0 only when every check passes
(warnings do not fail), 1 when one fails, 2 when the testbed cannot be used."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..report.masking import Masker, current
from ..testbed import REGIONS, Testbed, TestbedError, load_testbed
from .runner import diagnose
from .table import render

HELP = "read-only diagnosis of a lab along the documents' troubleshooting, with remedies"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("doctor", help=HELP, description=HELP)
    parser.add_argument("--testbed", type=Path, required=True, help="testbed YAML of the lab (real or simulated)")
    parser.add_argument("--region", choices=REGIONS, default=None,
                        help="override the testbed's cloud.region (default: the testbed's)")
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="seconds per network probe and connection attempt")
    parser.add_argument("--wait", type=float, default=None,
                        help="seconds to wait for a registration in progress (default: the testbed's "
                             "deadlines.registration)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        print("doctor: --timeout must be > 0", file=sys.stderr)
        return 2
    try:
        testbed = load_testbed(args.testbed)
    except TestbedError as exc:
        print(exc, file=sys.stderr)
        return 2
    masker = secrets_of(testbed)

    def progress(line: str) -> None:
        print(masker.mask(line), file=sys.stderr, flush=True)

    rows = diagnose(testbed, region=args.region, timeout=args.timeout, wait=args.wait, progress=progress)
    print(masker.mask(render(rows)), flush=True)
    return 0 if all(r.ok for r in rows) else 1


def secrets_of(testbed: Testbed) -> Masker:
    """Every secret the testbed holds, so no output line can show one."""
    masker = current()  # the process's: what the drivers learn (tokens) is registered there too
    masker.add_testbed(testbed)
    return masker
