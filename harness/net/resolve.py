"""Name resolution through the testbed's resolver: a real DNS query, never the machine's resolver.

Only when the testbed names no resolver (real gear using the site's DNS) does the check fall back to
the resolver configuration of the machine it runs on (``/etc/resolv.conf``), still through dnspython
so the timeout holds.
"""

from __future__ import annotations

import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from .probe_result import ANSWER, ERROR, NODATA, NXDOMAIN, TIMEOUT, Probe, finish


def resolve(fqdn: str, resolver: tuple[str, int] | None, timeout: float) -> tuple[Probe, list[str]]:
    """The DNS probe and the A records (empty unless the state is ``answer``)."""
    started = time.monotonic()
    if resolver is None:
        return _system(fqdn, timeout, started)
    host, port = resolver
    query = dns.message.make_query(fqdn, dns.rdatatype.A)
    try:
        # Falls back to TCP on a truncated answer, as a stub resolver does.
        response, _tcp = dns.query.udp_with_fallback(query, host, port=port, timeout=timeout)
    except dns.exception.Timeout:
        return finish(TIMEOUT, f"no answer from {host}:{port} within {timeout:g} s", started), []
    except (OSError, dns.exception.DNSException) as exc:
        return finish(ERROR, f"{host}:{port}: {exc}", started), []
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return finish(NXDOMAIN, f"{host}:{port} answered NXDOMAIN", started), []
    if rcode != dns.rcode.NOERROR:
        return finish(ERROR, f"{host}:{port} answered {dns.rcode.to_text(rcode)}", started), []
    addresses = [rd.address for rrset in response.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset]
    if not addresses:
        return finish(NODATA, f"{host}:{port} has no A record for {fqdn}", started), []
    return finish(ANSWER, ", ".join(addresses), started), addresses


def _system(fqdn: str, timeout: float, started: float) -> tuple[Probe, list[str]]:
    stub = dns.resolver.Resolver()  # /etc/resolv.conf
    stub.lifetime = timeout
    try:
        answer = stub.resolve(fqdn, "A")
    except dns.resolver.NXDOMAIN:
        return finish(NXDOMAIN, "the system resolver answered NXDOMAIN", started), []
    except dns.resolver.NoAnswer:
        return finish(NODATA, f"the system resolver has no A record for {fqdn}", started), []
    except dns.exception.Timeout:
        return finish(TIMEOUT, f"the system resolver did not answer within {timeout:g} s", started), []
    except dns.exception.DNSException as exc:
        return finish(ERROR, f"system resolver: {exc}", started), []
    addresses = [rd.address for rd in answer]
    return finish(ANSWER, ", ".join(addresses), started), addresses
