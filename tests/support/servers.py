"""Hosting test servers on the background loop: aiohttp apps (optionally TLS) and closing servers."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from aiohttp import web


async def serve_app(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    """Start ``app`` on 127.0.0.1 (a free port); returns the runner (``await runner.cleanup()``) and port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def close_server(server: Any) -> None:
    """Close an asyncio/asyncssh server on its own loop (servers are not thread-safe)."""
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 5)
