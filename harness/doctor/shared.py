"""Checks of what every appliance of the region shares: the firewall/proxy path and SSE's Cloud Services.

Each runs once per diagnosis; its outcome is shown on every appliance's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..net import check as netcheck
from ..testbed import Testbed
from . import remedies
from .clients import Clients
from .result import Status


@dataclass(frozen=True)
class Outcome:
    status: Status
    detail: str
    remedy: str = ""
    threat_response_off: bool = False  # SSE says Threat Response is disabled (TS-1): later checks name that cause


def firewall(testbed: Testbed, region: str, timeout: float) -> Outcome:
    """PRE-3/PRE-4 from this machine, through the testbed's resolver and proxy (``harness.net.check``)."""
    # raw=False: no SYN probe and no capture; the TCP connect and TLS probes decide the verdict anyway.
    report = netcheck(testbed, region=region, timeout=timeout, raw=False, attach=False)
    bad = [r for r in report.results if not r.ok]
    if not bad:
        names = ", ".join(r.fqdn for r in report.results)
        return Outcome(Status.PASS, f"HTTPS 443 reachable: {names} (proxy: {report.proxy})")
    detail = "; ".join(f"{r.fqdn}: {r.verdict}" for r in bad)
    remedy = " | ".join(dict.fromkeys(f"PRE-3/PRE-4: {r.remedy}" for r in bad if r.remedy))
    return Outcome(Status.FAIL, detail, remedy)


def sse_threat_response(clients: Clients, region: str) -> Outcome:
    """PRE-2/TS-1: Cisco Threat Response on SSE's Cloud Services tab (a GET of the admin API)."""
    sse = clients.sse(region)
    if sse is None:
        return Outcome(Status.WARN, f"not checkable: no SSE admin API for region {region} in the testbed",
                       remedies.TS_1_UNCHECKABLE)
    if sse.cloud_service_enabled():
        return Outcome(Status.PASS, f"Cisco Threat Response is enabled in SSE ({region})")
    return Outcome(Status.FAIL, f"Cisco Threat Response is disabled on SSE's Cloud Services tab ({region}); the "
                   "appliance cannot be chosen as a module's Registered Device", remedies.TS_1,
                   threat_response_off=True)
