"""The HTTP CONNECT proxy end to end: requests tunnels through it, the proxy resolves with lab DNS."""

from __future__ import annotations

import time

import pytest
import requests

from .support import NO_SITE, SHORT, TIMEOUT, Lab, proxy_connect, proxy_session

FQDN = "api-sse.cisco.com"


def _get(lab: Lab, fqdn: str = FQDN, proxy_url: str | None = None) -> requests.Response:
    # The target name is never resolved here: requests sends CONNECT fqdn:port and the proxy resolves.
    with proxy_session() as session:
        return session.get(f"https://{fqdn}:{lab.port}/connector/v1/ping",
                           proxies={"https": proxy_url or lab.proxy_url},
                           verify=str(lab.ca.bundle), timeout=TIMEOUT)


def test_requests_reaches_a_site_through_the_proxy(lab: Lab) -> None:
    reply = _get(lab)
    assert reply.status_code == 200
    assert reply.json() == {"site": FQDN, "path": "/connector/v1/ping"}
    tunnels = [e for e in lab.reqlog.entries(service="netlab.proxy") if e["path"] == f"{FQDN}:{lab.port}"]
    assert tunnels and tunnels[-1]["method"] == "CONNECT" and tunnels[-1]["status"] == 200


def test_the_proxy_follows_dns_overrides(lab: Lab) -> None:
    lab.post("/dns", {"fqdn": FQDN, "answer": None})
    status, head = proxy_connect(lab.proxy_url, f"{FQDN}:{lab.port}")
    assert status == 502 and b"cannot resolve" in head


def test_a_denied_fqdn_gets_403(lab: Lab) -> None:
    state = lab.post("/proxy", {"deny": [FQDN]})
    assert state["proxy"]["deny"] == [FQDN]
    status, _ = proxy_connect(lab.proxy_url, f"{FQDN}:{lab.port}")
    assert status == 403
    with pytest.raises(requests.exceptions.ProxyError, match="403"):
        _get(lab)
    assert _get(lab, "est.sco.cisco.com").status_code == 200  # only the denied one


def test_basic_proxy_authentication(lab: Lab) -> None:
    password = "s3cret-proxy-pass"
    state = lab.post("/proxy", {"auth": {"username": "labuser", "password": password}})
    assert state["proxy"]["auth"] == {"username": "labuser"}
    target = f"{FQDN}:{lab.port}"

    status, head = proxy_connect(lab.proxy_url, target)
    assert status == 407 and b'Proxy-Authenticate: Basic realm="ctrlab proxy"' in head
    assert proxy_connect(lab.proxy_url, target, auth=("labuser", "wrong"))[0] == 407
    assert proxy_connect(lab.proxy_url, target, auth=("labuser", password))[0] == 200

    with_credentials = lab.proxy_url.replace("http://", f"http://labuser:{password}@")
    assert _get(lab, proxy_url=with_credentials).status_code == 200
    with pytest.raises(requests.exceptions.ProxyError, match="407"):
        _get(lab)

    lab.post("/proxy", {"auth": None})
    assert _get(lab).status_code == 200
    assert password not in str(lab.reqlog.entries())


def test_a_rejected_target_is_a_502(lab: Lab) -> None:
    lab.post("/firewall", {"fqdn": FQDN, "action": "reject"})
    status, head = proxy_connect(lab.proxy_url, f"{FQDN}:{lab.port}")
    assert status == 502 and b"cannot connect" in head


@pytest.mark.parametrize("fixture", ["kernel_lab", "emulated_lab"])
def test_a_dropped_target_is_a_504_after_the_connect_timeout(request: pytest.FixtureRequest,
                                                             fixture: str) -> None:
    lab: Lab = request.getfixturevalue(fixture)
    lab.post("/proxy", {"connect_timeout": 1})  # real seconds: a network time-out is never lab time
    lab.post("/firewall", {"fqdn": FQDN, "action": "drop"})
    started = time.monotonic()
    status, _ = proxy_connect(lab.proxy_url, f"{FQDN}:{lab.port}")
    assert status == 504
    assert 0.9 < time.monotonic() - started < TIMEOUT


def test_an_ip_literal_target_in_the_lab_tunnels(lab: Lab) -> None:
    assert proxy_connect(lab.proxy_url, f"{lab.addr(FQDN)}:{lab.port}")[0] == 200
    lab.post("/proxy", {"deny": [FQDN]})  # the address maps back to the FQDN for the deny list
    assert proxy_connect(lab.proxy_url, f"{lab.addr(FQDN)}:{lab.port}")[0] == 403


@pytest.mark.parametrize(("request_line", "target", "expected"), [
    (None, "192.0.2.10:443", 403),  # outside loopback: the lab never sends traffic off the machine
    (None, "nowhere.example:443", 502),  # not a lab name: NXDOMAIN
    (None, f"{FQDN}", 400),  # no port
    ("GET http://api-sse.cisco.com/ HTTP/1.1", FQDN, 501),  # only CONNECT
    ("CONNECT", FQDN, 400),  # malformed request line
])
def test_bad_requests(lab: Lab, request_line: str | None, target: str, expected: int) -> None:
    assert proxy_connect(lab.proxy_url, target, request_line=request_line)[0] == expected


def test_a_siteless_fqdn_is_refused_by_its_address(lab: Lab) -> None:
    assert proxy_connect(lab.proxy_url, f"{NO_SITE}:{lab.port}", timeout=SHORT * 4)[0] == 502


def test_reset_clears_deny_list_and_credentials(lab: Lab) -> None:
    lab.post("/proxy", {"deny": [FQDN], "auth": {"username": "u", "password": "p4ssw0rd"}})
    lab.netlab.reset()
    assert lab.netlab.state()["proxy"]["deny"] == [] and lab.netlab.state()["proxy"]["auth"] is None
    assert _get(lab).status_code == 200
