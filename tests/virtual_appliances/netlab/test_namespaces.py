"""Namespace mode: appliance -> firewall -> cloud through real routed links and a real firewall."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.support.loop import BackgroundLoop
from virtual_appliances.common.pki import LabCA
from virtual_appliances.netlab import Action, namespaces
from virtual_appliances.netlab.listeners import Listener
from virtual_appliances.netlab.namespaces import NamespaceTopology, socket_in

from .support import SHORT, TIMEOUT

pytestmark = pytest.mark.skipif(not namespaces.available(), reason="namespace mode needs root, ip and nft")

FQDNS = ["api-sse.cisco.com", "est.sco.cisco.com"]


@pytest.fixture
def topology() -> Iterator[NamespaceTopology]:
    topo = NamespaceTopology(FQDNS)
    topo.create()
    yield topo
    topo.destroy()


def _serve_site(bg: BackgroundLoop, topo: NamespaceTopology, ca: LabCA, fqdn: str) -> Listener:
    """A TLS site listening inside the cloud namespace, served by the lab's loop."""
    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"site": fqdn, "peer": request.remote})

    async def start() -> Listener:
        app = web.Application()
        app.router.add_get("/", whoami)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket_in(topo.ns.cloud)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((topo.addresses[fqdn], 443))
        sock.listen(16)
        sock.setblocking(False)
        assert runner.server is not None
        listener = Listener(asyncio.get_running_loop(), topo.addresses[fqdn], 443, runner.server,
                            ca.server_context(fqdn, topo.addresses[fqdn]))
        listener.open(sock)
        return listener

    return bg.run(start())


def _get_from_appliance(topo: NamespaceTopology, ca: LabCA, fqdn: str, timeout: float = TIMEOUT) -> bytes:
    raw = socket_in(topo.ns.appliance)
    raw.settimeout(timeout)
    with raw:
        raw.connect((topo.addresses[fqdn], 443))
        with ssl.create_default_context(cafile=str(ca.bundle)).wrap_socket(raw, server_hostname=fqdn) as tls:
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {fqdn}\r\nConnection: close\r\n\r\n".encode())
            chunks = []
            while chunk := tls.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


def test_appliance_reaches_the_cloud_through_the_firewall(bg_loop: BackgroundLoop, topology: NamespaceTopology,
                                                          tmp_path: Path) -> None:
    ca = LabCA(tmp_path)
    listener = _serve_site(bg_loop, topology, ca, "api-sse.cisco.com")
    try:
        reply = _get_from_appliance(topology, ca, "api-sse.cisco.com")
        assert reply.startswith(b"HTTP/1.1 200")
        assert b'"peer": "198.18.0.2"' in reply  # routed, not NATed: the cloud sees the appliance

        topology.set_policy("api-sse.cisco.com", 443, Action.REJECT)
        with pytest.raises(ConnectionRefusedError):  # the firewall's RST
            _get_from_appliance(topology, ca, "api-sse.cisco.com")

        topology.set_policy("api-sse.cisco.com", 443, Action.DROP)
        with pytest.raises(TimeoutError):  # the SYN never arrives
            _get_from_appliance(topology, ca, "api-sse.cisco.com", timeout=SHORT)

        topology.reset()
        assert _get_from_appliance(topology, ca, "api-sse.cisco.com").startswith(b"HTTP/1.1 200")
    finally:
        bg_loop.run(listener.aclose())


def test_two_topologies_at_once_and_nothing_left_after() -> None:
    first, second = NamespaceTopology(FQDNS), NamespaceTopology(FQDNS)
    first.create()
    try:
        second.create()  # same addresses and link names: each lab's namespaces are private
        second.destroy()
    finally:
        first.destroy()
    left = set(namespaces.lab_namespaces())
    assert not left & {*first.ns.all(), *second.ns.all()}


def test_namespaces_of_dead_labs_are_swept() -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, timeout=TIMEOUT, check=True).stdout.strip()
    stale = f"ctrlab-{dead}-abcdef-fw"
    subprocess.run(["ip", "netns", "add", stale], timeout=TIMEOUT, check=True)
    assert stale in namespaces.sweep_dead_labs()
    assert stale not in namespaces.lab_namespaces()
