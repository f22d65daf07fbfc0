"""lab_session / LabResolver: how simulators call the cloud through the lab, over real DNS and TLS."""

from __future__ import annotations

import socket
import time
from typing import Any

import aiohttp
import pytest

from virtual_appliances.netlab.client import LabResolver, lab_session

from .support import SHORT, TIMEOUT, Lab

FQDN = "api-sse.cisco.com"


async def _fetch(lab: Lab, fqdn: str = FQDN, proxy: str | None = None) -> tuple[int, Any]:
    async with lab_session(lab.netlab.resolver, lab.ca.client_context(), timeout=TIMEOUT, proxy=proxy) as s, \
            s.post(f"https://{fqdn}:{lab.port}/connector/v1/register", json={}) as resp:
        return resp.status, await resp.json()


def test_resolver_asks_the_lab_dns(lab: Lab) -> None:
    since = lab.reqlog.entries()[-1]["seq"] if lab.reqlog.entries() else 0
    results = lab.bg.run(LabResolver(lab.netlab.resolver).resolve(FQDN, 443))
    assert [(r["hostname"], r["host"], r["port"], r["family"]) for r in results] == \
        [(FQDN, lab.addr(FQDN), 443, socket.AF_INET)]
    assert [e["path"] for e in lab.reqlog.entries(since, "netlab.dns")] == [FQDN]


def test_resolver_passes_ip_literals_through(lab: Lab) -> None:
    results = lab.bg.run(LabResolver(lab.netlab.resolver).resolve("127.0.0.1", 8443))
    assert [(r["host"], r["port"]) for r in results] == [("127.0.0.1", 8443)]


def test_resolver_failures_are_oserrors(lab: Lab) -> None:
    with pytest.raises(OSError, match="NXDOMAIN"):
        lab.bg.run(LabResolver(lab.netlab.resolver).resolve("www.cisco.com"))
    with pytest.raises(OSError, match="IPv6"):
        lab.bg.run(LabResolver(lab.netlab.resolver).resolve(FQDN, family=socket.AF_INET6))


def test_resolver_times_out_on_a_silent_server(lab: Lab) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        started = time.monotonic()
        with pytest.raises(OSError, match="did not answer"):
            lab.bg.run(LabResolver(silent.getsockname(), timeout=SHORT).resolve(FQDN))
        assert time.monotonic() - started < SHORT + 1


def test_session_calls_a_site_by_name(lab: Lab) -> None:
    assert lab.bg.run(_fetch(lab)) == (200, {"site": FQDN, "path": "/connector/v1/register"})


def test_session_through_the_proxy_with_credentials(lab: Lab) -> None:
    lab.post("/proxy", {"auth": {"username": "appliance", "password": "proxy-pass-1"}})
    proxy = lab.proxy_url.replace("http://", "http://appliance:proxy-pass-1@")
    assert lab.bg.run(_fetch(lab, "est.sco.cisco.com", proxy=proxy))[0] == 200
    with pytest.raises(aiohttp.ClientHttpProxyError) as failed:
        lab.bg.run(_fetch(lab, proxy=lab.proxy_url))
    assert failed.value.status == 407


def test_session_sees_dns_faults_firewall_and_interception(lab: Lab) -> None:
    lab.post("/dns", {"fqdn": FQDN, "answer": None})
    with pytest.raises(aiohttp.ClientConnectorDNSError):
        lab.bg.run(_fetch(lab))
    lab.netlab.reset()

    lab.post("/firewall", {"fqdn": FQDN, "action": "reject"})
    with pytest.raises(aiohttp.ClientConnectorError):
        lab.bg.run(_fetch(lab))
    lab.netlab.reset()

    lab.post("/intercept", {"fqdn": FQDN, "enabled": True})
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        lab.bg.run(_fetch(lab))
