"""Listening sockets that open and close synchronously, served by the lab's event loop.

The firewall flips listeners from control-plane handlers and from the synchronous ``NetLab.reset()``.
Binding and closing happen on the spot, so the kernel's behaviour (accept or refuse) changes before
the call returns; asyncio only starts serving the socket one loop iteration later, and connections
that arrive meanwhile wait in the kernel's backlog.
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
    def __init__(self, loop: asyncio.AbstractEventLoop, address: str, port: int,
                 factory: ProtocolFactory, ssl_context: ssl.SSLContext | None = None) -> None:
        self.address = address
        self.port = port
        self._loop = loop
        self._factory = factory
        self._ssl = ssl_context
        self._sock: socket.socket | None = None
        self._server: asyncio.Server | None = None
        self._starting: asyncio.Task[asyncio.Server] | None = None
        self._pending: set[asyncio.Task[asyncio.Server]] = set()

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self, sock: socket.socket | None = None) -> None:
        """Listen now (``sock`` if already bound, else a fresh socket); serve from the next iteration."""
        if self._sock is not None:
            if sock is not None:
                sock.close()
            return
        self._sock = sock or listen_socket(self.address, self.port)
        task = self._loop.create_task(
            self._loop.create_server(self._factory, sock=self._sock, ssl=self._ssl, backlog=128))
        self._starting = task
        self._pending.add(task)
        task.add_done_callback(self._started)

    def close(self) -> None:
        """Stop listening: from now on the kernel refuses connections (RST)."""
        if self._server is not None:
            self._server.close()  # closes the listening socket; live connections are their owner's job
        elif self._sock is not None and self._starting is not None and self._starting.done():
            self._sock.close()  # create_server failed; the socket is still ours
        # If create_server is still running, _started() closes its server when it arrives: cancelling
        # it half-way could leave a registered reader on a closed socket.
        self._server = None
        self._sock = None
        self._starting = None

    async def wait_ready(self, timeout: float = 5.0) -> None:
        if self._pending:
            await asyncio.wait_for(asyncio.gather(*self._pending, return_exceptions=True), timeout)

    def _started(self, task: asyncio.Task[asyncio.Server]) -> None:
        self._pending.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("listener %s:%s failed to start: %s", self.address, self.port, exc)
            return
        server = task.result()
        if task is self._starting:
            self._server = server
        else:
            server.close()  # closed (or re-opened) while this one was starting


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
