"""Listening sockets that open and close synchronously, served by the lab's event loop.

The firewall flips listeners from control-plane handlers and from the synchronous ``NetLab.reset()``.
Binding and closing happen on the spot, so the kernel's behaviour (accept or refuse) has changed
when the call returns.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable

from .addressing import listen_socket

log = logging.getLogger("virtual_appliances.netlab")

ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class Listener:
    """One listening socket on ``address:port``; every accepted connection gets a fresh protocol.

    A hand-rolled accept loop (add_reader + ``connect_accepted_socket``) instead of ``create_server``
    because opening and closing must be synchronous: ``create_server`` is a coroutine, and a listener
    closed while it is still starting would keep accepting.
    """

    ACCEPT_BATCH = 64
    HANDSHAKE_TIMEOUT = 30.0  # seconds a client may take to complete the TLS handshake

    def __init__(self, loop: asyncio.AbstractEventLoop, address: str, port: int,
                 factory: ProtocolFactory, ssl_context: ssl.SSLContext | None = None) -> None:
        self.address = address
        self.port = port
        self._loop = loop
        self._factory = factory
        self._ssl = ssl_context
        self._sock: socket.socket | None = None
        self._setups: set[asyncio.Task[None]] = set()

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self, sock: socket.socket | None = None) -> None:
        """Listen now, on ``sock`` if it is already bound and listening, else on a fresh socket."""
        if self._sock is not None:
            if sock is not None and sock is not self._sock:
                sock.close()
            return
        self._sock = sock or listen_socket(self.address, self.port)
        self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop listening: from now on the kernel refuses connections (RST). Live ones stay up."""
        if self._sock is None:
            return
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        self._sock = None

    async def aclose(self) -> None:
        """Close and abandon connections still in their TLS handshake."""
        self.close()
        for task in list(self._setups):
            task.cancel()
        await asyncio.gather(*self._setups, return_exceptions=True)

    def _accept(self) -> None:
        for _ in range(self.ACCEPT_BATCH):
            if self._sock is None:
                return
            try:
                conn, _peer = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: keep listening
                log.warning("accept on %s:%s failed: %s", self.address, self.port, exc)
                return
            conn.setblocking(False)
            task: asyncio.Task[None] = self._loop.create_task(self._setup(conn))
            self._setups.add(task)
            task.add_done_callback(self._setups.discard)

    async def _setup(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(
                self._factory, conn, ssl=self._ssl,
                ssl_handshake_timeout=self.HANDSHAKE_TIMEOUT if self._ssl else None)
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            # A client that rejects our certificate (interception) or hangs up mid-handshake.
            log.debug("connection to %s:%s not established: %s", self.address, self.port, exc)
            conn.close()


class BlackHole(asyncio.Protocol):
    """Accepts a TCP connection and never answers, like a host behind a dropping firewall.

    Used only where no kernel firewall is available: unlike a real drop, the TCP handshake
    completes, so a client times out on its first read (TLS handshake) instead of on connect.
    """

    IDLE_LIMIT = 300.0  # seconds; a guard against piling up forgotten connections

    def __init__(self, connections: set[asyncio.Transport]) -> None:
        self._connections = connections
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._connections.add(transport)
        self._timer = asyncio.get_running_loop().call_later(self.IDLE_LIMIT, self._check_idle)

    def data_received(self, data: bytes) -> None:
        self._last = time.monotonic()  # swallowed

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._transport is not None:
            self._connections.discard(self._transport)

    def _check_idle(self) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        idle = time.monotonic() - self._last
        if idle >= self.IDLE_LIMIT:
            self._transport.abort()
        else:
            self._timer = asyncio.get_running_loop().call_later(self.IDLE_LIMIT - idle, self._check_idle)
