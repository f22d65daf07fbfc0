"""The lab's DNS server: authoritative for the lab FQDNs, NXDOMAIN for everything else.

It never forwards a query: an appliance in the lab must not reach the real cloud, and a name outside
the lab failing to resolve is exactly what a locked-down network does. dnslib encodes and decodes the
messages; the transport is asyncio (UDP and TCP on one port) so the server lives on the lab's event
loop and stops instantly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from typing import cast

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from ..common.reqlog import RequestLog
from .addressing import normalize

log = logging.getLogger("virtual_appliances.netlab")

TTL = 60
BIND_ATTEMPTS = 32
TCP_IDLE = 10.0  # seconds a TCP client may keep a connection open between queries
TCP_MAX_MESSAGE = 65535


class DnsTable:
    """What the lab's DNS answers, including the control plane's overrides."""

    def __init__(self, addresses: dict[str, str]) -> None:
        self.addresses = addresses
        self.overrides: dict[str, str | None] = {}  # fqdn -> other address, or None for NXDOMAIN

    def knows(self, name: str) -> bool:
        return normalize(name) in self.addresses

    def lookup(self, name: str) -> str | None:
        """The A record for ``name``, or None when the answer is NXDOMAIN."""
        fqdn = normalize(name)
        if fqdn in self.overrides:
            return self.overrides[fqdn]
        return self.addresses.get(fqdn)

    def name_of(self, address: str) -> str | None:
        """The lab FQDN an address belongs to (for IP-literal proxy targets)."""
        for fqdn, own in self.addresses.items():
            if own == address:
                return fqdn
        return None

    def override(self, fqdn: str, answer: str | None) -> None:
        self.overrides[normalize(fqdn)] = answer

    def restore(self, fqdn: str) -> None:
        self.overrides.pop(normalize(fqdn), None)

    def reset(self) -> None:
        self.overrides.clear()

    def answer(self, query: bytes) -> tuple[bytes | None, str, str, int]:
        """Encode the reply to a wire-format query; (reply or None if unparseable, name, type, rcode)."""
        try:
            request = DNSRecord.parse(query)
        except Exception:  # dnslib raises assorted errors on garbage; a server ignores garbage
            return None, "", "", RCODE.FORMERR
        reply = request.reply(ra=0, aa=1)  # authoritative, and honest that it never recurses
        if request.header.opcode != 0 or not request.questions:
            reply.header.rcode = RCODE.NOTIMP if request.header.opcode != 0 else RCODE.FORMERR
            return reply.pack(), "", "", reply.header.rcode
        question = request.questions[0]
        name = str(question.qname)
        qtype = QTYPE.get(question.qtype, str(question.qtype))
        address = self.lookup(name)
        if address is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif question.qtype in (QTYPE.A, QTYPE.ANY):
            reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(address), ttl=TTL))
        # Any other type for a lab name: NOERROR with no answer (the name exists, it has no such record).
        return reply.pack(), normalize(name), str(qtype), reply.header.rcode


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: LabDnsServer) -> None:
        self._server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # cast, not isinstance: CPython's selector datagram transport does not subclass the ABC
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self._server.handle(data, "udp")
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class LabDnsServer:
    def __init__(self, table: DnsTable, reqlog: RequestLog, host: str = "127.0.0.1", port: int = 0,
                 netns: str | None = None) -> None:
        self.table = table
        self.host = host
        self.port = port
        self._netns = netns  # namespace mode: the server's sockets live in the cloud namespace
        self._reqlog = reqlog
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_clients: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        udp_sock, tcp_sock = _bind_pair(self.host, self.port, self._netns)
        self.port = udp_sock.getsockname()[1]
        transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=udp_sock)
        self._udp = transport
        self._tcp = await asyncio.start_server(self._serve_tcp, sock=tcp_sock, limit=TCP_MAX_MESSAGE + 2)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for writer in list(self._tcp_clients):
                writer.close()
            self._tcp = None

    def handle(self, query: bytes, transport: str) -> bytes | None:
        started = time.monotonic()
        reply, name, qtype, rcode = self.table.answer(query)
        self._reqlog.record("netlab.dns", method="DNS", path=name, query={"type": qtype, "via": transport},
                            status=RCODE.get(rcode, str(rcode)),
                            ms=round((time.monotonic() - started) * 1000, 1))
        return reply

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # RFC 1035 4.2.2 / RFC 7766: each message is preceded by its two-byte length.
        self._tcp_clients.add(writer)
        try:
            while True:
                header = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE)
                (length,) = struct.unpack("!H", header)
                query = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE)
                reply = self.handle(query, "tcp")
                if reply is None:
                    return
                writer.write(struct.pack("!H", len(reply)) + reply)
                await asyncio.wait_for(writer.drain(), TCP_IDLE)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            return
        finally:
            self._tcp_clients.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)


def _new_socket(kind: int, netns: str | None) -> socket.socket:
    if netns is None:
        return socket.socket(socket.AF_INET, kind)
    from .namespaces import socket_in  # only namespace mode needs it

    return socket_in(netns, socket.AF_INET, kind)


def _bind_pair(host: str, port: int = 0, netns: str | None = None) -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket on the same port: ``port``, or a free one (the kernel picks UDP's; TCP may
    collide: retry)."""
    for _ in range(BIND_ATTEMPTS):
        udp = _new_socket(socket.SOCK_DGRAM, netns)
        try:
            udp.bind((host, port))
        except BaseException:
            udp.close()
            raise
        tcp = _new_socket(socket.SOCK_STREAM, netns)
        try:
            tcp.bind((host, udp.getsockname()[1]))
            tcp.listen(64)
        except OSError:
            udp.close()
            tcp.close()
            continue
        udp.setblocking(False)
        tcp.setblocking(False)
        return udp, tcp
    raise RuntimeError(f"no port free for both UDP and TCP on {host} after {BIND_ATTEMPTS} attempts")
