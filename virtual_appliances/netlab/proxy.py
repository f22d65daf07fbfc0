"""An HTTP CONNECT proxy, as an appliance configured with a proxy server (PRE-4) uses it.

The proxy resolves targets with the lab's DNS table and connects from its own place in the network,
so the firewall applies to it as to anyone: a rejected target is a 502, a dropped one a 504 after the
proxy's connect timeout. The control plane can require basic proxy authentication (407) and deny
FQDNs (403). Only CONNECT is supported, and only to loopback addresses: traffic never leaves the
machine.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

from ..common.reqlog import RequestLog
from .addressing import is_ipv4, is_loopback, normalize
from .dns import DnsTable
from .firewall import Action, Firewall

log = logging.getLogger("virtual_appliances.netlab")

HEAD_LIMIT = 16 * 1024
HEAD_TIMEOUT = 10.0  # seconds for a client to send its request head
IDLE_TIMEOUT = 300.0  # seconds a tunnel may stay silent in both directions (a resource guard)
# How long the proxy tries to reach a target: a network time-out, so real seconds, never lab time.
CONNECT_TIMEOUT_S = 10.0
CHUNK = 64 * 1024

REASONS = {200: "Connection established", 400: "Bad Request", 403: "Forbidden",
           407: "Proxy Authentication Required", 501: "Not Implemented", 502: "Bad Gateway",
           504: "Gateway Timeout"}


@dataclass
class ProxyAuth:
    username: str
    password: str

    def accepts(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{self.username}:{self.password}"
        return hmac.compare_digest(decoded.encode(), expected.encode())


class _Refusal(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class ConnectProxy:
    def __init__(self, table: DnsTable, firewall: Firewall, reqlog: RequestLog, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.deny: set[str] = set()
        self.auth: ProxyAuth | None = None
        self.connect_timeout_s = CONNECT_TIMEOUT_S
        self._table = table
        self._firewall = firewall
        self._reqlog = reqlog
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, 0, limit=HEAD_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._clients):
            task.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)

    def reset(self) -> None:
        self.deny = set()
        self.auth = None
        self.connect_timeout_s = CONNECT_TIMEOUT_S

    # ---- one client -------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The work runs in an inner task that stop() cancels: cancelling the task asyncio's
        # start_server created for us makes Python 3.11 log a spurious "Exception in callback".
        outer = asyncio.current_task()
        inner = asyncio.ensure_future(self._handle(reader, writer))
        self._clients.add(inner)
        try:
            await inner
        except asyncio.CancelledError:
            if outer is not None and outer.cancelling():
                raise
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            self._clients.discard(inner)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started = time.monotonic()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        method, target, headers = _parse_head(head)
        try:
            upstream_reader, upstream_writer = await self._open_tunnel(method, target, headers)
        except _Refusal as refusal:
            self._log(method, target, refusal.status, started, refusal)
            await _respond(writer, refusal.status, str(refusal), refusal.headers)
            return
        self._log(method, target, 200, started)
        try:
            await _respond(writer, 200)
            await _pipe(reader, writer, upstream_reader, upstream_writer)
        finally:
            upstream_writer.close()

    async def _open_tunnel(self, method: str, target: str, headers: dict[str, str]
                           ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if method == "":
            raise _Refusal(400, "malformed request line")
        if method != "CONNECT":
            raise _Refusal(501, "this proxy only tunnels with CONNECT", {"Allow": "CONNECT"})
        if self.auth is not None and not self.auth.accepts(headers.get("proxy-authorization")):
            raise _Refusal(407, "proxy authentication required",
                           {"Proxy-Authenticate": 'Basic realm="ctrlab proxy"'})
        host, port = _split_target(target)
        fqdn = self._table.name_of(host) if is_ipv4(host) else normalize(host)
        if fqdn is not None and fqdn in self.deny:
            raise _Refusal(403, f"access to {fqdn} is denied by proxy policy")
        address = host if is_ipv4(host) else self._table.lookup(host)
        if address is None:
            raise _Refusal(502, f"cannot resolve {host}")
        if not is_loopback(address):
            raise _Refusal(403, f"{address} is outside the lab")
        timeout = self.connect_timeout_s
        if fqdn is not None and self._firewall.kernel is None \
                and self._firewall.action(fqdn, port) is Action.DROP:
            # The emulated black hole would complete the TCP handshake; a proxy behind a dropping
            # firewall sees its connect time out, so that is what happens here.
            await asyncio.sleep(timeout)
            raise _Refusal(504, f"connection to {host}:{port} timed out")
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
        except TimeoutError:
            raise _Refusal(504, f"connection to {host}:{port} timed out") from None
        except OSError as exc:
            raise _Refusal(502, f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None

    def _log(self, method: str, target: str, status: int, started: float,
             refusal: _Refusal | None = None) -> None:
        fields: dict[str, object] = {"method": method or "?", "path": target, "query": {}, "status": status,
                                     "ms": round((time.monotonic() - started) * 1000, 1)}
        if refusal is not None:
            fields["reason"] = str(refusal)
        self._reqlog.record("netlab.proxy", **fields)


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """(method, target, lower-cased headers); an empty method means the request line is malformed."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return "", "", headers
    return parts[0], parts[1], headers


def _split_target(target: str) -> tuple[str, int]:
    host, sep, port_text = target.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _Refusal(400, f"CONNECT target must be host:port, got {target!r}")
    return host, int(port_text)


async def _respond(writer: asyncio.StreamWriter, status: int, body: str = "",
                   headers: dict[str, str] | None = None) -> None:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}"]
    if status != 200:
        data = (body + "\n").encode()
        lines += ["Content-Type: text/plain; charset=utf-8", f"Content-Length: {len(data)}",
                  "Connection: close"]
    else:
        data = b""
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
    await asyncio.wait_for(writer.drain(), HEAD_TIMEOUT)


async def _pipe(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                upstream_reader: asyncio.StreamReader, upstream_writer: asyncio.StreamWriter) -> None:
    """Copy bytes both ways until both sides are done, or the tunnel is idle for IDLE_TIMEOUT."""
    last_activity = [time.monotonic()]

    async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        while True:
            try:
                data = await asyncio.wait_for(src.read(CHUNK), IDLE_TIMEOUT)
            except TimeoutError:
                if time.monotonic() - last_activity[0] >= IDLE_TIMEOUT:
                    return
                continue  # the other direction is busy
            if not data:
                if dst.can_write_eof():
                    with contextlib.suppress(OSError):
                        dst.write_eof()  # pass on the half-close
                return
            last_activity[0] = time.monotonic()
            dst.write(data)
            await asyncio.wait_for(dst.drain(), IDLE_TIMEOUT)

    tasks = [asyncio.ensure_future(copy(client_reader, upstream_writer)),
             asyncio.ensure_future(copy(upstream_reader, client_writer))]
    try:
        # One direction failing (reset, timeout) ends the tunnel; a clean EOF lets the other finish.
        _done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for task in tasks:
            task.cancel()
