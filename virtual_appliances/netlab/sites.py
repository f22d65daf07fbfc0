"""The cloud's HTTPS sites: one TLS listener per FQDN, each on its own loopback address.

Each site presents a certificate from the lab CA for its FQDN and for its IP address, so clients that
use IP-literal base URLs verify too. TLS interception swaps, per handshake, to a certificate from an
unrelated CA, as an intercepting middlebox presents: clients that verify against the lab CA fail.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

from aiohttp import web

from ..common.pki import LabCA
from .listeners import Listener

RUNNER_SHUTDOWN = 1.0  # seconds live requests get when the lab stops


class SiteIdentity:
    def __init__(self, ca: LabCA, fqdn: str, address: str) -> None:
        self._ca = ca
        self.fqdn = fqdn
        self.address = address
        self.context = ca.server_context(fqdn, address)
        # The SNI callback runs for every ClientHello, with or without SNI, so flipping
        # ``intercepted`` takes effect on the next handshake without touching the listener.
        self.context.sni_callback = self._choose
        self._rogue: ssl.SSLContext | None = None
        self.intercepted = False

    def intercept(self, enabled: bool) -> None:
        if enabled and self._rogue is None:
            self._rogue = self._ca.rogue_server_context(self.fqdn, self.address)
        self.intercepted = enabled

    def _choose(self, sslobj: ssl.SSLObject | ssl.SSLSocket, server_name: str | None,
                ctx: ssl.SSLContext) -> None:
        if self.intercepted and self._rogue is not None:
            sslobj.context = self._rogue


class Sites:
    """The aiohttp runners behind the listeners; an app added for several FQDNs gets one runner."""

    def __init__(self, ca: LabCA) -> None:
        self._ca = ca
        self.identities: dict[str, SiteIdentity] = {}
        self.listeners: dict[str, Listener] = {}
        # Namespace mode: the same sites also listen in the cloud namespace. The firewall there is
        # nftables, so these listeners stay open whatever the policy.
        self.namespace_listeners: list[Listener] = []
        self._runners: dict[int, web.AppRunner] = {}
        self._servers: dict[str, web.Server] = {}

    async def start(self, loop: asyncio.AbstractEventLoop, apps: dict[str, web.Application],
                    addresses: dict[str, str], port: int, sockets: dict[str, socket.socket]) -> None:
        for fqdn, app in apps.items():
            runner = self._runners.get(id(app))
            if runner is None:
                # access_log=None: each app records its own (redacted) request log; aiohttp's access
                # log would print query strings with secrets in them.
                runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                       shutdown_timeout=RUNNER_SHUTDOWN)
                await runner.setup()
                self._runners[id(app)] = runner
            assert runner.server is not None
            self._servers[fqdn] = runner.server
            identity = SiteIdentity(self._ca, fqdn, addresses[fqdn])
            self.identities[fqdn] = identity
            listener = Listener(loop, addresses[fqdn], port, runner.server, identity.context)
            listener.open(sockets.get(fqdn))
            self.listeners[fqdn] = listener

    def listen_also(self, loop: asyncio.AbstractEventLoop, fqdn: str, sock: socket.socket) -> None:
        """Serve ``fqdn``'s site on another listening socket too (same app, certificate and interception
        switch); the certificate names the FQDN, which is what clients verify."""
        address, port = sock.getsockname()[:2]
        listener = Listener(loop, address, port, self._servers[fqdn], self.identities[fqdn].context)
        listener.open(sock)
        self.namespace_listeners.append(listener)

    def intercepted(self) -> list[str]:
        return sorted(f for f, i in self.identities.items() if i.intercepted)

    def reset(self) -> None:
        for identity in self.identities.values():
            identity.intercept(False)

    async def stop(self) -> None:
        for listener in [*self.listeners.values(), *self.namespace_listeners]:
            await listener.aclose()
        self.namespace_listeners.clear()
        self._servers.clear()
        for runner in self._runners.values():
            await runner.cleanup()
        self._runners.clear()
        self.listeners.clear()
