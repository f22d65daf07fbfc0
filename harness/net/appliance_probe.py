"""The firewall check from the appliance's own vantage point, over its CLI: ``dig`` and ``telnet``.

The harness machine may sit elsewhere in the network than the appliance; what counts for PRE-3 is the
appliance's path. Its CLI offers ``dig <name>`` (BIND layout) and ``telnet <host> <port>`` (BSD
telnet lines); this module runs them through any CLI driver with ``run(command, timeout=...)`` (the
SSH driver ``harness.appliance.asyncos_cli.AsyncOSCli``) and parses them into the same rows and verdicts as
the harness-side check. Only DNS and TCP are visible from there: SYN, TLS and proxy columns stay empty.

On real gear, a ``telnet`` that connects holds the session open until ``^]`` and ``quit``; the
driver needs a raw-key dialog for that, which the simulator does not (it closes at once).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Protocol

from .fqdns import required_fqdns
from .probe_result import ANSWER, ERROR, NXDOMAIN, OPEN, REFUSED, TIMEOUT, UNAVAILABLE, Probe, skipped
from .report import FqdnResult, NetcheckReport
from .settings import NetSettings
from .verdict import judge

# Seconds the CLI driver may wait for dig (the appliance's resolver timeout and retries) and telnet
# (the appliance's connect timeout) before the prompt comes back.
DIG_WAIT = 30.0
TELNET_WAIT = 90.0

_STATUS = re.compile(r"->>HEADER<<-.*status: (?P<status>[A-Z]+)")
_A_RECORD = re.compile(r"^(?P<name>\S+)\s+\d+\s+IN\s+A\s+(?P<address>\d+\.\d+\.\d+\.\d+)\s*$", re.MULTILINE)
_TRYING = re.compile(r"^Trying (?P<address>\S+?)\.\.\.\s*$", re.MULTILINE)


class CliRunner(Protocol):
    def run(self, command: str, *, timeout: float | None = None) -> str: ...


def check_from_appliance(cli: CliRunner, testbed: object, region: str | None = None, *,
                         fqdns: Sequence[str] | None = None, name: str = "appliance") -> NetcheckReport:
    """``dig`` and ``telnet <fqdn> 443`` for each required FQDN, one after the other (one CLI session)."""
    settings = NetSettings.from_testbed(testbed)
    region = (region or settings.region).lower()
    names = list(fqdns) if fqdns else required_fqdns(region)
    started = time.monotonic()
    results = [probe_fqdn(cli, fqdn, settings) for fqdn in names]
    return NetcheckReport(
        vantage=f"appliance {name}", region=region, results=results, resolver="the appliance's DNS",
        https_port=settings.https_port, ca_bundle="-", proxy="not used by telnet", timeout=TELNET_WAIT,
        elapsed=time.monotonic() - started, syn_note="from the appliance CLI: dig and telnet only (no SYN, TLS)",
        started=started)


def probe_fqdn(cli: CliRunner, fqdn: str, settings: NetSettings) -> FqdnResult:
    started = time.monotonic()
    dig_started = time.monotonic()
    dns, address = parse_dig(cli.run(f"dig {fqdn} A", timeout=DIG_WAIT), fqdn, dig_started)
    if address is None:
        tcp = skipped("no address")
    else:
        # 443 as the documents say; a lab on another port maps it (the appliance's telnet does too).
        tcp_started = time.monotonic()
        tcp = parse_telnet(cli.run(f"telnet {fqdn} 443", timeout=TELNET_WAIT), tcp_started)
    not_here = Probe(UNAVAILABLE, "not available from the appliance CLI")
    direct = NetSettings(settings.region, settings.resolver, settings.ca_bundle, settings.https_port, None)
    verdict, remedy = judge(fqdn, direct, dns, tcp, not_here, not_here)
    return FqdnResult(fqdn, address, dns, tcp, not_here, not_here, not_here, verdict, remedy, started,
                      time.monotonic())


def parse_dig(output: str, fqdn: str, started: float) -> tuple[Probe, str | None]:
    now = time.monotonic()
    if "connection timed out" in output or "no servers could be reached" in output:
        return Probe(TIMEOUT, "dig: no servers could be reached", started, now), None
    status = _STATUS.search(output)
    if status is None:
        return Probe(ERROR, f"dig: unexpected output: {_first_line(output)}", started, now), None
    if status["status"] == "NXDOMAIN":
        return Probe(NXDOMAIN, "dig: status NXDOMAIN", started, now), None
    if status["status"] != "NOERROR":
        return Probe(ERROR, f"dig: status {status['status']}", started, now), None
    wanted = fqdn.rstrip(".").lower() + "."
    addresses = [m["address"] for m in _A_RECORD.finditer(output) if m["name"].lower() == wanted]
    if not addresses:
        return Probe(ERROR, f"dig: no A record for {fqdn}", started, now), None
    return Probe(ANSWER, ", ".join(addresses), started, now), addresses[0]


def parse_telnet(output: str, started: float) -> Probe:
    now = time.monotonic()
    tried = _TRYING.search(output)
    where = f" ({tried['address']})" if tried else ""
    if re.search(r"^Connected to ", output, re.MULTILINE):
        return Probe(OPEN, f"telnet: connected{where}", started, now)
    if "Connection refused" in output:
        return Probe(REFUSED, f"telnet: connection refused{where}", started, now)
    if "timed out" in output:
        return Probe(TIMEOUT, f"telnet: connect timed out{where}", started, now)
    if "not known" in output or "name resolution" in output.lower():
        return Probe(NXDOMAIN, "telnet: the name does not resolve", started, now)
    return Probe(ERROR, f"telnet: {_first_line(output)}", started, now)


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0][:120] if lines else "(no output)"
