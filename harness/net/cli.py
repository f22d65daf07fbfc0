"""``ctrlab netcheck``: the firewall prerequisite from this machine, as a table; exit 0 only when every
required FQDN is reachable (1 when one is not, 2 when the testbed cannot be used)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..testbed import REGIONS
from .check import DEFAULT_TIMEOUT, check
from .settings import SettingsError

HELP = "check that the region's FQDNs are reachable on HTTPS 443 (PRE-3; through the proxy, PRE-4)"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("netcheck", help=HELP, description=HELP)
    configure(parser)
    parser.set_defaults(func=run)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--testbed", type=Path, required=True, help="testbed YAML (network.*, cloud.region)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds per probe; probes run concurrently")
    parser.add_argument("--pcap", type=Path, default=None,
                        help="write the probes' packets here (needs root; default: no capture)")
    parser.add_argument("--region", choices=REGIONS, default=None,
                        help="override the testbed's cloud.region (default: the testbed's)")
    parser.add_argument("--json", dest="json_out", type=Path, default=None,
                        help="also write the report as JSON to this file (default: the table only)")
    parser.add_argument("--no-raw", action="store_true", help="no raw SYN probe and no capture")


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        print("netcheck: --timeout must be > 0", file=sys.stderr)
        return 2
    try:
        report = check(args.testbed, region=args.region, timeout=args.timeout, pcap=args.pcap,
                       raw=not args.no_raw, attach=False)
    except SettingsError as exc:
        print(f"netcheck: {exc}", file=sys.stderr)
        return 2
    print(report.table(), flush=True)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(report.to_dict(), indent=2))
    return 0 if report.ok else 1
