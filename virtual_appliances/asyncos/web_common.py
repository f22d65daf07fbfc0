"""What the web GUI and the REST API of the appliance share: the admin account, AsyncOS's way of
writing a time, and the injected-fault middleware."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from http import HTTPStatus

from aiohttp import web

from .model import Appliance

USERNAME = "admin"  # the appliance's administrator account (testbed credentials)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Responder = Callable[[int], web.StreamResponse]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def asyncos_time(moment: datetime, seconds: bool = True, zone: bool = True) -> str:
    """``31 Jul 2023 15:20:45 (GMT +00:00)``; month names fixed so the locale cannot change them."""
    clock = f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"
    text = f"{moment.day:02d} {MONTHS[moment.month - 1]} {moment.year} {clock}"
    return f"{text} (GMT +00:00)" if zone else text


def fault_middleware(appliance: Appliance, respond: Responder) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Injected faults (control plane): a delay before every reply, or every reply with one status."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = appliance.faults
        if faults.slow_reply_ms:
            await asyncio.sleep(faults.slow_reply_ms / 1000)  # network latency is wall-clock time
        if faults.http_status:
            return respond(faults.http_status)
        return await handler(request)

    return middleware


def status_reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
