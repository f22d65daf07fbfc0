"""The harness's side of the tunnel to a lab on a remote docker engine (``virtual_appliances/docker/tunnel.py``).

Each endpoint of the remote lab (an appliance's SSH, HTTPS or SMTP port, the control plane, a cloud
site, the proxy, the resolver) gets a listener on this machine's loopback; a connection to it is carried
through one TCP connection to the tunnel port on the engine host, which connects to the same endpoint on
the engine host's loopback. Why relay rather than name the engine's address in the testbed: the lab's
certificates name 127.0.0.1 and the cloud's FQDNs and 127.a.b.c addresses, which the harness verifies as
it would on a local lab. DNS over UDP is carried as DNS over TCP (RFC 1035 4.2.2 length prefix).

One asyncio loop in a daemon thread serves every listener; sockets are bound in the caller's thread, so
a collision is an ``OSError`` there. Every connect and read has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

MAGIC = "CTRLAB-TUNNEL"  # the tunnel's header (virtual_appliances/docker/tunnel.py; no import across)
CONNECT_TIMEOUT_S = 10.0
DNS_TIMEOUT_S = 5.0
STATE_TIMEOUT_S = 5.0  # reading the lab's netlab state through the tunnel
CHUNK = 65536
START_TIMEOUT_S = 10.0
STOP_POLL_S = 0.05  # how often close() looks again for connections to end


@dataclass(frozen=True)
class Engine:
    """Where the tunnel listens (the engine host's address, the port the tunnel picked) and its token."""

    host: str
    port: int
    token: str = field(repr=False)  # a secret: never in a repr, a log or a report

    def header(self, host: str, port: int) -> bytes:
        return f"{MAGIC} {self.token} {host} {port}\n".encode("ascii")


async def _open(engine: Engine, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(engine.host, engine.port), CONNECT_TIMEOUT_S)
    writer.write(engine.header(host, port))
    return reader, writer


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                watch: Callable[[bytes], object] | None = None,
                before: Callable[[], Awaitable[None]] | None = None) -> None:
    """Copy until EOF; ``watch`` sees each chunk read, ``before`` runs before each chunk is written."""
    try:
        while data := await reader.read(CHUNK):
            if watch is not None:
                watch(data)
            if before is not None:
                await before()
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


async def _after(asked: asyncio.Event, hook: Hook) -> None:
    if asked.is_set():
        asked.clear()
        await hook.before_answer()


class Hook(Protocol):
    """Watches one relayed endpoint: a request chunk it ``wants`` makes the next answer wait for
    ``before_answer`` (the control plane's answer to a firewall change waits until the relays mirror it)."""

    def wants(self, chunk: bytes) -> bool: ...

    async def before_answer(self) -> None: ...


async def fetch_json(engine: Engine, target: tuple[str, int], path: str) -> Any:
    """GET ``path`` from an HTTP endpoint on the engine host through the tunnel (HTTP/1.0: read to EOF)."""
    reader, writer = await _open(engine, *target)
    try:
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {target[0]}\r\nAccept: application/json\r\n\r\n".encode())
        raw = await asyncio.wait_for(reader.read(-1), STATE_TIMEOUT_S)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or head.split(b" ", 2)[1] != b"200":
        raise OSError(f"GET {path}: {head.splitlines()[0] if head else b'no answer'!r}")
    return json.loads(body)


class _DnsRelay(asyncio.DatagramProtocol):
    def __init__(self, relays: Relays, target: tuple[str, int]) -> None:
        self.relays, self.target = relays, target
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.relays._spawn(self._answer(data, addr))

    async def _answer(self, query: bytes, addr: tuple[str, int]) -> None:
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await _open(self.relays.engine, *self.target)
            writer.write(struct.pack("!H", len(query)) + query)
            size = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), DNS_TIMEOUT_S))[0]
            answer = await asyncio.wait_for(reader.readexactly(size), DNS_TIMEOUT_S)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, OSError):
            return  # no answer, as a lost datagram: the client's own timeout and retries decide
        finally:
            if writer is not None:
                writer.close()
        if self.transport is not None:
            self.transport.sendto(answer[:65535], addr)


class Relays:
    """Loopback listeners that carry connections to endpoints on the engine host's loopback."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ctrlab-relays", daemon=True)
        self._thread.start()
        self._servers: dict[tuple[str, int], asyncio.AbstractServer] = {}  # by local address
        self._targets: dict[tuple[str, int], tuple[tuple[str, int], Hook | None]] = {}
        self._transports: list[asyncio.BaseTransport] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[socket.socket] = []  # bound sockets not served (claims)
        self._closing = False  # set by close(): connections accepted from then on end at once

    def _call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(START_TIMEOUT_S)  # type: ignore[arg-type]

    def _spawn(self, coro: object) -> None:
        task = self._loop.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def hold(self, sock: socket.socket) -> None:
        """Keep a bound socket open until :meth:`close` (a claim other labs on this machine respect)."""
        self._held.append(sock)

    def tcp(self, sock: socket.socket, target: tuple[str, int], hook: Hook | None = None) -> None:
        """Serve a bound TCP socket: each connection goes to ``target`` on the engine host."""
        sock.listen(128)
        sock.setblocking(False)
        local = sock.getsockname()[:2]
        self._targets[local] = (target, hook)
        self._call(self._serve(local, sock))

    async def _serve(self, local: tuple[str, int], sock: socket.socket) -> None:
        target, hook = self._targets[local]

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if self._closing:  # accepted just before close(): end it here, before it opens anything
                writer.close()
                return
            upstream: asyncio.StreamWriter | None = None
            task = asyncio.current_task()
            if task is not None:  # so close() ends live connections before the loop stops
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            try:
                up_reader, upstream = await _open(self.engine, *target)
                if hook is None:
                    await asyncio.gather(_pipe(reader, upstream), _pipe(up_reader, writer))
                else:
                    asked = asyncio.Event()
                    await asyncio.gather(_pipe(reader, upstream, watch=lambda data: hook.wants(data) and asked.set()),
                                         _pipe(up_reader, writer, before=lambda: _after(asked, hook)))
            except (TimeoutError, ConnectionError, OSError):
                pass
            except asyncio.CancelledError:
                pass  # close(): ended, not failed (asyncio logs the exception of a cancelled handler)
            finally:
                for w in (writer, upstream):
                    if w is not None:
                        w.close()

        self._servers[local] = await asyncio.start_server(handle, sock=sock)

    async def set_listening(self, local: tuple[str, int], listening: bool) -> None:
        """Close or reopen a TCP listener (in the relays' loop): a refusal there mirrors one on the engine."""
        server = self._servers.get(local)
        if not listening and server is not None:
            server.close()
            del self._servers[local]
        elif listening and server is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(local)
            sock.listen(128)
            sock.setblocking(False)
            await self._serve(local, sock)

    def dns(self, sock: socket.socket, target: tuple[str, int]) -> None:
        """Serve a bound UDP socket as a resolver: each query goes to ``target``'s TCP side."""
        sock.setblocking(False)

        async def start() -> None:
            transport, _ = await self._loop.create_datagram_endpoint(lambda: _DnsRelay(self, target), sock=sock)
            self._transports.append(transport)

        self._call(start())

    def close(self) -> None:
        if self._loop.is_closed():
            return

        async def stop() -> None:
            self._closing = True
            for server in self._servers.values():
                server.close()
            for transport in self._transports:
                transport.close()
            # A connection accepted just before the servers closed becomes a handler task a few loop turns
            # later (accept, transport, protocol, task). Wait until no task but this one is left, so none
            # is still pending when the loop stops (its `finally` would then run on a closed loop). Only
            # handlers that have started are cancelled: they end cleanly; one not yet started sees
            # `_closing` and returns (cancelling it first would make Python 3.11's stream protocol log it).
            # Cancelled again on every turn: Python 3.11's wait_for can swallow a cancel that lands as its
            # connect completes, and that handler would then wait on its pipes.
            me = asyncio.current_task()
            deadline = self._loop.time() + START_TIMEOUT_S / 2  # within _call's own wait for stop()
            while others := [t for t in asyncio.all_tasks() if t is not me]:
                for task in others:
                    if task in self._tasks:
                        task.cancel()
                remaining = deadline - self._loop.time()
                if remaining <= 0:
                    break
                await asyncio.wait(others, timeout=min(STOP_POLL_S, remaining), return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(0)  # one more turn: the connection-lost callbacks of the writers just closed

        with contextlib.suppress(Exception):
            self._call(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()
        for sock in self._held:
            sock.close()
        self._held.clear()
