"""From probe outcomes to one verdict per FQDN, with the remedy the documents give for it."""

from __future__ import annotations

from enum import StrEnum

from .fqdns import firewall_remedy, proxy_remedy
from .probe_result import ANSWER, ERROR, INTERCEPTED, OPEN, REFUSED, SKIPPED, TIMEOUT, TUNNEL, UNAVAILABLE, VERIFIED
from .probe_result import Probe as _Probe
from .settings import NetSettings


class Verdict(StrEnum):
    REACHABLE = "reachable"
    NO_DNS = "no DNS answer"
    REFUSED = "refused"
    FILTERED = "silently dropped (filtered)"
    INTERCEPTED = "TLS intercepted"
    TLS_FAILED = "TLS failed"
    PROXY_REFUSED = "proxy refused"


def judge(fqdn: str, settings: NetSettings, dns: _Probe, tcp: _Probe, tls: _Probe,
          proxy: _Probe) -> tuple[Verdict, str]:
    """The verdict and its remedy. With a proxy (PRE-4) only the path through the proxy counts."""
    port = settings.https_port
    if settings.proxy is not None:
        if proxy.state != TUNNEL:
            return Verdict.PROXY_REFUSED, proxy_remedy(fqdn, settings.proxy.display, proxy.detail)
    else:
        if dns.state != ANSWER:
            return Verdict.NO_DNS, (f"Make {fqdn} resolvable by the appliance's DNS server ({dns.detail}); "
                                    f"then: {firewall_remedy(fqdn, port)}")
        if tcp.state == REFUSED:
            return Verdict.REFUSED, firewall_remedy(fqdn, port)
        if tcp.state in (TIMEOUT, ERROR):
            return Verdict.FILTERED, firewall_remedy(fqdn, port)
    if tls.state == VERIFIED:
        return Verdict.REACHABLE, ""
    if tls.state in (SKIPPED, UNAVAILABLE) and tcp.state == OPEN:
        return Verdict.REACHABLE, ""  # a vantage point that can only connect (the appliance's telnet)
    if tls.state == INTERCEPTED:
        return Verdict.INTERCEPTED, (f"Exempt {fqdn} from TLS interception (decryption) on the firewall or "
                                     f"proxy: {tls.detail}")
    if tls.state == TIMEOUT and settings.proxy is None:
        # The TCP handshake completed and then nothing answered: a firewall that drops after accepting
        # (or the lab's userspace black hole). Same remedy as a dropped SYN.
        return Verdict.FILTERED, firewall_remedy(fqdn, port)
    return Verdict.TLS_FAILED, f"Check HTTPS to {fqdn}: {tls.detail}"
