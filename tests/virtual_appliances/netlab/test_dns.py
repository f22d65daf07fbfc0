"""The lab DNS server, queried for real over UDP and TCP with dnspython."""

from __future__ import annotations

import socket

import dns.flags
import dns.rcode
import dns.rdatatype
import pytest

from virtual_appliances.common.regions import all_fqdns

from .support import EXTRA_SITE, NO_SITE, TIMEOUT, Lab, dns_query


def _a_records(reply: dns.message.Message) -> list[str]:
    return [r.address for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for r in rrset]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_every_lab_fqdn_resolves_to_its_address(lab: Lab, tcp: bool) -> None:
    for fqdn in [*all_fqdns(), EXTRA_SITE]:  # NO_SITE included: names resolve with or without a site
        reply = dns_query(lab.netlab.resolver, fqdn, tcp=tcp)
        assert reply.rcode() == dns.rcode.NOERROR
        assert _a_records(reply) == [lab.addr(fqdn)]
        assert reply.answer[0].ttl == 60
        assert reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA  # authoritative, no recursion


@pytest.mark.parametrize("name", ["example.com", "cisco.com", "www.cisco.com", "sse.itd.cisco.com"])
def test_names_outside_the_lab_are_nxdomain_never_forwarded(lab: Lab, name: str) -> None:
    assert dns_query(lab.netlab.resolver, name).rcode() == dns.rcode.NXDOMAIN


def test_other_record_types_of_a_lab_name_are_empty(lab: Lab) -> None:
    reply = dns_query(lab.netlab.resolver, "api-sse.cisco.com", "AAAA")
    assert reply.rcode() == dns.rcode.NOERROR and not reply.answer


def test_queries_are_recorded_in_the_request_log(lab: Lab) -> None:
    since = lab.reqlog.entries()[-1]["seq"] if lab.reqlog.entries() else 0
    dns_query(lab.netlab.resolver, "est.sco.cisco.com")
    dns_query(lab.netlab.resolver, "nowhere.example")
    logged = [(e["path"], e["status"]) for e in lab.reqlog.entries(since, "netlab.dns")]
    assert logged == [("est.sco.cisco.com", "NOERROR"), ("nowhere.example", "NXDOMAIN")]


def test_control_makes_a_name_unresolvable_or_points_it_elsewhere(lab: Lab) -> None:
    fqdn, resolver = "api.eu.sse.itd.cisco.com", lab.netlab.resolver
    state = lab.post("/dns", {"fqdn": fqdn, "answer": None})
    assert state["dns"]["overrides"] == {fqdn: None}
    assert dns_query(resolver, fqdn).rcode() == dns.rcode.NXDOMAIN
    assert dns_query(resolver, fqdn, tcp=True).rcode() == dns.rcode.NXDOMAIN

    elsewhere = lab.addr(NO_SITE)
    lab.post("/dns", {"fqdn": fqdn, "answer": elsewhere})
    assert _a_records(dns_query(resolver, fqdn)) == [elsewhere]

    lab.post("/dns", {"fqdn": fqdn, "restore": True})
    assert _a_records(dns_query(resolver, fqdn)) == [lab.addr(fqdn)]

    lab.post("/dns", {"fqdn": fqdn, "answer": None})
    lab.post("/reset", {})
    assert _a_records(dns_query(resolver, fqdn)) == [lab.addr(fqdn)]


def test_garbage_is_ignored_and_the_server_keeps_answering(lab: Lab) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(b"\x00\x01garbage", lab.netlab.resolver)
    with socket.create_connection(lab.netlab.resolver, timeout=TIMEOUT) as sock:
        sock.sendall(b"\x00\x05junk!")
        assert sock.recv(100) == b""  # the server hangs up on a message it cannot parse
    assert dns_query(lab.netlab.resolver, "est.sco.cisco.com").rcode() == dns.rcode.NOERROR
