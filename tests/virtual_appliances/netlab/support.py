"""Clients the netlab tests use: each speaks the real protocol with a bounded timeout."""

from __future__ import annotations

import base64
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import requests
from aiohttp import web

from tests.support.loop import BackgroundLoop
from virtual_appliances.common.clock import SimClock
from virtual_appliances.common.pki import LabCA
from virtual_appliances.common.redact import Redactor
from virtual_appliances.common.reqlog import RequestLog, logging_middleware
from virtual_appliances.netlab import NetLab

TIMEOUT = 5.0  # for things that should succeed
SHORT = 0.5  # for things that should time out (firewall drops)
EXTRA_SITE = "extra.lab.test"  # a site that is not one of the documented FQDNs
NO_SITE = "private.intel.apjc.amp.cisco.com"  # a documented FQDN the fixture gives no site


def site_app(fqdn: str, reqlog: RequestLog) -> web.Application:
    """A site that says who it is, so a test knows which listener answered."""
    app = web.Application(middlewares=[logging_middleware(f"site/{fqdn}", reqlog)])

    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"site": fqdn, "path": request.path})

    app.router.add_route("*", "/{tail:.*}", whoami)
    return app


@dataclass
class Lab:
    netlab: NetLab
    ca: LabCA
    reqlog: RequestLog
    redactor: Redactor
    clock: SimClock
    bg: BackgroundLoop
    control_url: str = ""
    _stop_control: Callable[[], Any] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return self.netlab.https_port

    @property
    def proxy_url(self) -> str:
        url = self.netlab.proxy_url
        assert url is not None, "this lab has no proxy"
        return url

    def addr(self, fqdn: str) -> str:
        return self.netlab.address_of(fqdn)

    def control(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        with requests.Session() as session:
            session.trust_env = False
            resp = session.request(method, f"{self.control_url}{path}", json=body, timeout=TIMEOUT)
        return resp.status_code, resp.json()

    def post(self, path: str, body: Any) -> dict[str, Any]:
        status, reply = self.control("POST", path, body)
        assert status == 200, reply
        return reply  # type: ignore[no-any-return]


def build_lab(bg: BackgroundLoop, tmp: Path, *, sites: list[str], firewall_mode: str = "auto",
              https_port: int | None = None, proxy: bool = True, control: bool = True) -> Lab:
    ca = LabCA(tmp)
    redactor = Redactor()
    reqlog = RequestLog(redactor)
    clock = SimClock(speed=600)
    netlab = NetLab(ca, reqlog, redactor, clock, https_port=https_port, proxy=proxy)
    netlab.firewall_mode = firewall_mode
    for fqdn in sites:
        netlab.add_site(fqdn, site_app(fqdn, reqlog))
    lab = Lab(netlab, ca, reqlog, redactor, clock, bg)
    bg.run(netlab.start())
    if control:
        lab.control_url, lab._stop_control = bg.run(serve_control(netlab))
    return lab


def stop_lab(lab: Lab) -> None:
    if lab._stop_control is not None:
        lab.bg.run(lab._stop_control())
    lab.bg.run(lab.netlab.stop())


async def serve_control(netlab: NetLab) -> tuple[str, Callable[[], Any]]:
    """Mount the control app under /_sim/netlab, as the lab runner does."""
    root = web.Application()
    root.add_subapp("/_sim/netlab", netlab.control_app())
    runner = web.AppRunner(root, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return f"http://127.0.0.1:{port}/_sim/netlab", runner.cleanup


# ---- protocol probes -------------------------------------------------------------------------------
def dns_query(resolver: tuple[str, int], name: str, rdtype: str = "A", tcp: bool = False) -> dns.message.Message:
    """A real DNS query to the lab resolver (never the system's)."""
    query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    host, port = resolver
    if tcp:
        return dns.query.tcp(query, host, port=port, timeout=TIMEOUT)
    return dns.query.udp(query, host, port=port, timeout=TIMEOUT)


def tcp_probe(address: str, port: int, timeout: float = SHORT) -> str:
    """open / refused / timeout, as a port scanner reports a TCP connect."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"


def client_context(ca: LabCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca.bundle))


def tls_handshake(address: str, port: int, server_hostname: str, context: ssl.SSLContext,
                  timeout: float = TIMEOUT) -> dict[str, Any]:
    """Handshake with SNI = ``server_hostname``, verifying the chain and the name; the peer cert."""
    with socket.create_connection((address, port), timeout=timeout) as raw, \
            context.wrap_socket(raw, server_hostname=server_hostname) as tls:
        return tls.getpeercert() or {}


def https_get(address: str, port: int, fqdn: str, context: ssl.SSLContext, path: str = "/") -> bytes:
    """One HTTP/1.1 GET over a verified TLS connection to a site address, without any DNS."""
    with socket.create_connection((address, port), timeout=TIMEOUT) as raw, \
            context.wrap_socket(raw, server_hostname=fqdn) as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {fqdn}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def proxy_connect(proxy_url: str, target: str, auth: tuple[str, str] | None = None,
                  request_line: str | None = None, timeout: float = TIMEOUT) -> tuple[int, bytes]:
    """Send one CONNECT (or ``request_line``) to the proxy; the status code and the head + body read."""
    host, port = proxy_url.removeprefix("http://").split(":")
    lines = [request_line or f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if auth is not None:
        lines.append("Proxy-Authorization: Basic " + base64.b64encode(":".join(auth).encode()).decode())
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else 0
    return status, data


def proxy_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no environment proxies, no .netrc: only what the test gives
    return session


def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT, interval: float = 0.01) -> None:
    """Poll to a deadline instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
