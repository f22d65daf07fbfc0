"""HTTPS through the lab, for simulators that call other simulators (the appliance's connector).

Names resolve with real DNS queries to the lab's DNS server, never the machine's resolver, so a DNS
fault set on the control plane reaches the client exactly as it would on a real network. With a proxy,
aiohttp sends ``CONNECT host:port`` and the proxy resolves the name (PRE-4): the client resolves
nothing itself.

In namespace mode (``netns``) the client is the appliance in its namespace: its DNS queries and its TCP
connections leave from sockets created in the appliance namespace, through the firewall namespace. A
proxy on loopback (PRE-4) is still reached from the lab's own namespace.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import aiohttp
import dns.asyncquery
import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
from aiohttp.abc import AbstractResolver, ResolveResult

from .addressing import is_ipv4, is_loopback
from .namespaces import socket_in

DNS_TIMEOUT = 5.0  # seconds for one lookup, at most


class LabResolver(AbstractResolver):
    def __init__(self, server: tuple[str, int], timeout: float = DNS_TIMEOUT, netns: str | None = None) -> None:
        self._host, self._port = server
        self._timeout = timeout
        self._netns = netns

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if family == socket.AF_INET6:
            raise OSError(socket.EAI_FAMILY, f"the lab has no IPv6 addresses ({host})")
        if is_ipv4(host):  # aiohttp skips resolvers for literals; direct callers may not
            return [_result(host, host, port)]
        query = dns.message.make_query(host, dns.rdatatype.A)
        try:
            if self._netns is not None:
                # dnspython's asyncio queries create their own sockets; the blocking ones accept ours.
                response = await asyncio.get_running_loop().run_in_executor(None, self._query_in_netns, query)
            else:
                # Falls back to TCP if the UDP answer is truncated, as a stub resolver does.
                response, _ = await dns.asyncquery.udp_with_fallback(
                    query, self._host, port=self._port, timeout=self._timeout)
        except dns.exception.Timeout as exc:
            raise OSError(socket.EAI_AGAIN, f"lab DNS did not answer for {host}") from exc
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            raise OSError(socket.EAI_NONAME, f"{host}: NXDOMAIN")
        if rcode != dns.rcode.NOERROR:
            raise OSError(socket.EAI_FAIL, f"{host}: {dns.rcode.to_text(rcode)}")
        addresses = [
            rdata.address
            for rrset in response.answer if rrset.rdtype == dns.rdatatype.A
            for rdata in rrset
        ]
        if not addresses:
            raise OSError(socket.EAI_NODATA, f"{host}: no A record")
        return [_result(host, address, port) for address in addresses]

    def _query_in_netns(self, query: dns.message.Message) -> dns.message.Message:
        """UDP, then TCP on truncation, from sockets inside the appliance namespace (a worker thread)."""
        assert self._netns is not None
        with socket_in(self._netns, socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.setblocking(False)
            try:
                return dns.query.udp(query, self._host, timeout=self._timeout, port=self._port, sock=udp,
                                     raise_on_truncation=True)
            except dns.message.Truncated:
                pass
        with socket_in(self._netns) as tcp:
            tcp.settimeout(self._timeout)
            tcp.connect((self._host, self._port))
            tcp.setblocking(False)
            return dns.query.tcp(query, self._host, timeout=self._timeout, port=self._port, sock=tcp)

    async def close(self) -> None:
        return None


def appliance_socket_factory(netns: str) -> Any:
    """aiohttp ``socket_factory``: sockets to the cloud are created in the appliance namespace; a
    loopback destination (the lab's CONNECT proxy) keeps the lab's own namespace."""

    def create(addr_info: Any) -> socket.socket:
        family, kind, proto, _canonname, sockaddr = addr_info
        if is_loopback(str(sockaddr[0])):
            return socket.socket(family, kind, proto)
        # socket_in joins a short-lived setns thread: about a millisecond on the loop, once per connection.
        return socket_in(netns, family, kind)

    return create


def _result(host: str, address: str, port: int) -> ResolveResult:
    return ResolveResult(hostname=host, host=address, port=port, family=socket.AF_INET, proto=0,
                         flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV)


def lab_session(resolver_addr: tuple[str, int], ssl_context: ssl.SSLContext, timeout: float,
                proxy: str | None, netns: str | None = None,
                connect_timeout: float | None = None) -> aiohttp.ClientSession:
    """A client session that resolves with the lab DNS, verifies with ``ssl_context``, and tunnels
    through ``proxy`` (``http://[user:password@]host:port``) when one is given.

    ``timeout`` / ``connect_timeout``: real seconds for the whole request / its connection.
    ``netns``: the appliance namespace (namespace mode), where DNS queries and connections start.
    Call it from a coroutine (aiohttp binds the session to the running loop).
    """
    extra: dict[str, Any] = {}
    if netns is not None:
        extra["socket_factory"] = appliance_socket_factory(netns)
    connector = aiohttp.TCPConnector(
        resolver=LabResolver(resolver_addr, timeout=min(timeout, DNS_TIMEOUT), netns=netns),
        ssl=ssl_context,
        use_dns_cache=False,  # every connection asks the lab DNS, so DNS faults apply at once
        **extra,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout, connect=connect_timeout),
        proxy=proxy,
        trust_env=False,  # never the machine's proxy settings or .netrc
    )
