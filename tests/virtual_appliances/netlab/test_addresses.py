"""Addresses and ports: one loopback address per FQDN, one HTTPS port, parallel labs apart."""

from __future__ import annotations

import errno
import ipaddress
import os
import random
import socket
import time
from pathlib import Path

import pytest

from tests.support.loop import BackgroundLoop
from virtual_appliances.common.regions import all_fqdns
from virtual_appliances.netlab import UnknownFqdn, addressing
from virtual_appliances.netlab.addressing import allocate

from .conftest import SITES
from .support import EXTRA_SITE, NO_SITE, Lab, build_lab, client_context, https_get, stop_lab, tcp_probe


def test_every_fqdn_has_its_own_loopback_address_in_one_block(lab: Lab) -> None:
    names = [*all_fqdns(), EXTRA_SITE]
    addresses = [lab.addr(n) for n in names]
    assert len(set(addresses)) == len(names)
    block = ipaddress.IPv4Network(lab.netlab.state()["block"])
    assert block.prefixlen == 24 and block.subnet_of(ipaddress.IPv4Network("127.0.0.0/8"))
    # FQDN i -> .10+i, the documented names first
    assert [int(a.rsplit(".", 1)[1]) for a in addresses] == list(range(10, 10 + len(names)))
    assert all(ipaddress.IPv4Address(a) in block for a in addresses)


def test_address_lookup_is_case_insensitive_and_rejects_strangers(lab: Lab) -> None:
    assert lab.addr("API-SSE.cisco.com.") == lab.addr("api-sse.cisco.com")
    with pytest.raises(UnknownFqdn):
        lab.addr("www.cisco.com")


@pytest.mark.skipif(os.geteuid() != 0, reason="binding 443 needs root")
def test_sites_listen_on_443_when_it_is_bindable(lab: Lab) -> None:
    assert lab.port == 443


def test_every_site_serves_its_app_and_a_siteless_fqdn_refuses(lab: Lab) -> None:
    ctx = client_context(lab.ca)
    for fqdn in SITES:
        reply = https_get(lab.addr(fqdn), lab.port, fqdn, ctx)
        assert reply.startswith(b"HTTP/1.1 200"), fqdn
        assert f'"site": "{fqdn}"'.encode() in reply
    assert tcp_probe(lab.addr(NO_SITE), lab.port) == "refused"


def test_forced_port_and_a_second_lab_at_the_same_time(bg_loop: BackgroundLoop, lab: Lab,
                                                       tmp_path: Path) -> None:
    other = build_lab(bg_loop, tmp_path, sites=["api-sse.cisco.com"], https_port=_free_port())
    where = (other.addr("api-sse.cisco.com"), other.port)
    try:
        assert other.netlab.state()["block"] != lab.netlab.state()["block"]
        assert other.port != lab.port
        for each in (lab, other):
            reply = https_get(each.addr("api-sse.cisco.com"), each.port, "api-sse.cisco.com",
                              client_context(each.ca))
            assert reply.startswith(b"HTTP/1.1 200")
    finally:
        stop_lab(other)
    assert tcp_probe(*where) == "refused"  # stopped: nothing left listening


def test_whole_netlab_starts_in_well_under_a_second(bg_loop: BackgroundLoop, tmp_path: Path) -> None:
    started = time.monotonic()
    lab = build_lab(bg_loop, tmp_path, sites=all_fqdns(), control=False)
    elapsed = time.monotonic() - started
    stop_lab(lab)
    assert elapsed < 1.0, f"start took {elapsed:.2f} s"


class _Repeating(random.Random):
    """Yields the same block twice, then another one: the second lab must skip the taken block."""

    def __init__(self, values: list[int]) -> None:
        super().__init__()
        self._values = values

    def randrange(self, *args: int, **kwargs: int) -> int:  # type: ignore[override]
        return self._values.pop(0)


def test_allocation_retries_on_a_block_another_lab_holds() -> None:
    first = allocate(["a.test"], ["a.test"], rng=_Repeating([201, 7]))
    try:
        second = allocate(["a.test"], ["a.test"], rng=_Repeating([201, 7, 201, 8]))
        try:
            assert (first.prefix, second.prefix) == ("127.201.7", "127.201.8")
        finally:
            second.release()
    finally:
        first.release()


@pytest.mark.parametrize("error", [errno.EACCES, errno.EADDRINUSE], ids=["not-root", "443-taken"])
def test_when_443_is_unavailable_the_sites_share_one_high_port(monkeypatch: pytest.MonkeyPatch,
                                                               error: int) -> None:
    real = addressing.listen_socket

    def unprivileged(address: str, port: int, backlog: int = 128) -> socket.socket:
        if port == 443:
            raise OSError(error, os.strerror(error))
        return real(address, port, backlog)

    monkeypatch.setattr(addressing, "listen_socket", unprivileged)
    alloc = allocate(["a.test", "b.test", "c.test"], ["a.test", "b.test"])
    try:
        assert alloc.https_port > 1024
        assert {s.getsockname()[1] for s in alloc.sockets.values()} == {alloc.https_port}
    finally:
        alloc.release()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_one_app_can_serve_several_fqdns(bg_loop: BackgroundLoop, tmp_path: Path) -> None:
    from aiohttp import web

    shared = web.Application()

    async def host(request: web.Request) -> web.Response:
        return web.Response(text=request.host)

    shared.router.add_get("/", host)
    lab = build_lab(bg_loop, tmp_path, sites=[], control=False)
    stop_lab(lab)
    for fqdn in ("api-sse.cisco.com", "api.eu.sse.itd.cisco.com"):
        lab.netlab.add_site(fqdn, shared)
    bg_loop.run(lab.netlab.start())  # a NetLab can start again after stop
    try:
        for fqdn in ("api-sse.cisco.com", "api.eu.sse.itd.cisco.com"):
            reply = https_get(lab.addr(fqdn), lab.port, fqdn, client_context(lab.ca))
            assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(fqdn.encode())
    finally:
        bg_loop.run(lab.netlab.stop())


def test_a_forced_port_that_is_taken_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def taken(address: str, port: int, backlog: int = 128) -> socket.socket:
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))  # e.g. a *:8443 listener elsewhere

    monkeypatch.setattr(addressing, "listen_socket", taken)
    with pytest.raises(OSError, match="requested port 8443"):
        allocate(["a.test"], ["a.test"], https_port=8443)


def test_sites_are_added_before_start(lab: Lab) -> None:
    from aiohttp import web

    with pytest.raises(RuntimeError, match="before start"):
        lab.netlab.add_site("late.lab.test", web.Application())

