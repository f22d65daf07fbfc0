"""The check from the appliance's vantage point when the appliance lives in a network namespace (the
simulators' namespace mode, ``python -m virtual_appliances.lab --netns``).

The testbed says so with ``testbed.simulator.appliance_netns`` (and the appliance's resolver and HTTPS
port in ``testbed.simulator.appliance_network``). ``check()`` then runs its probes in a child process
started with ``ip netns exec <namespace> python -m harness.net.netns``: settings in as JSON on stdin, the
report out as JSON on stdout. setns changes a thread, not a process, and the probes use many threads,
scapy and libpcap, so a child process is the one way every one of them starts in the namespace.

The addresses of the namespace lab (198.18.0.0/15, RFC 2544 benchmarking space) exist only inside it:
from any other namespace a packet to them would leave by the machine's default route. So this module
also refuses to probe them from outside a lab namespace.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .settings import NetSettings, ProxySpec

NETNS_DIR = Path("/run/netns")
LAB_PREFIX = "ctrlab-"  # the namespace lab's namespaces (virtual_appliances/netlab/namespaces.py)
LAB_NETWORK = ipaddress.IPv4Network("198.18.0.0/15")
CHILD_SLACK = 60.0  # seconds on top of the probes' own budget: interpreter start, scapy import
REPO = Path(__file__).resolve().parents[2]


class NamespaceCheckError(RuntimeError):
    """The check could not run inside the appliance's namespace."""


def _current_inode() -> int | None:
    try:
        return os.stat("/proc/thread-self/ns/net").st_ino
    except OSError:
        return None


def inside(namespace: str) -> bool:
    """Whether this thread already runs in ``namespace`` (same namespace inode)."""
    try:
        return _current_inode() == os.stat(NETNS_DIR / namespace).st_ino
    except OSError:
        return False


def in_lab_namespace() -> bool:
    current = _current_inode()
    if current is None or not NETNS_DIR.is_dir():
        return False
    for path in NETNS_DIR.glob(f"{LAB_PREFIX}*"):
        try:
            if path.stat().st_ino == current:
                return True
        except OSError:
            continue
    return False


def refusal(address: str) -> str | None:
    """Why ``address`` must not be probed from here, or None when it may."""
    try:
        in_lab_net = ipaddress.IPv4Address(address) in LAB_NETWORK
    except ValueError:
        return None
    if in_lab_net and not in_lab_namespace():
        return (f"{address} belongs to a namespace lab (198.18.0.0/15) and this process is not in a lab "
                "namespace: the packets would leave by the default route; run the check with the testbed's "
                "testbed.simulator.appliance_netns")
    return None


def check_in_namespace(settings: NetSettings, region: str, timeout: float, fqdns: list[str],
                       pcap: Path | None, raw: bool) -> dict[str, Any]:
    """Run the check in ``settings.netns``; the child's report as a mapping (``NetcheckReport.to_dict``)."""
    assert settings.netns is not None
    payload = {
        "settings": {**asdict(settings), "netns": None},
        "region": region, "timeout": timeout, "fqdns": fqdns, "raw": raw,
        "pcap": str(pcap) if pcap is not None else None,
        "vantage": f"appliance namespace {settings.netns}",
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    # A worker is bounded by about five probe timeouts (check.WORKER_BUDGET_FACTOR); the rest is start-up.
    budget = 5 * timeout + CHILD_SLACK
    try:
        done = subprocess.run(["ip", "netns", "exec", settings.netns, sys.executable, "-m", "harness.net.netns"],
                              input=json.dumps(payload), capture_output=True, text=True, timeout=budget,
                              env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NamespaceCheckError(f"netcheck in namespace {settings.netns}: {exc}") from exc
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise NamespaceCheckError(f"netcheck in namespace {settings.netns} failed (exit {done.returncode}): "
                                  f"{(done.stderr or done.stdout).strip()[-2000:]}")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def main() -> int:
    """The child: settings on stdin, the report (JSON, one line) on stdout."""
    from .check import check  # imported here: check imports this module

    payload = json.loads(sys.stdin.read())
    raw_settings = payload["settings"]
    proxy = raw_settings.get("proxy")
    settings = NetSettings(
        region=raw_settings["region"],
        resolver=tuple(raw_settings["resolver"]) if raw_settings.get("resolver") else None,  # type: ignore[arg-type]
        ca_bundle=raw_settings.get("ca_bundle"),
        https_port=int(raw_settings["https_port"]),
        proxy=ProxySpec(**proxy) if proxy else None,
    )
    report = check(settings, region=payload["region"], timeout=float(payload["timeout"]),
                   fqdns=payload["fqdns"], pcap=payload["pcap"], raw=bool(payload["raw"]), attach=False,
                   vantage=payload["vantage"])
    print(json.dumps(report.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
