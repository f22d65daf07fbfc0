"""HTTP pieces shared by the SSE apps: protocol errors and injected faults."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, code: str, message: str, **extra: Any) -> web.HTTPException:
    """``{"error": code, "message": message}``, the error shape of every SSE API."""
    exc = web.HTTPException(text=json.dumps({"error": code, "message": message, **extra}),
                            content_type="application/json")
    exc.set_status(status)
    return exc


def invalid(field: str, message: str) -> web.HTTPException:
    """A 400 that names the offending field."""
    return error(400, "invalid_request", message, field=field)


def fault_middleware(status_of: Callable[[], int | None]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Answer every request with the injected status while a fault is set."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        status = status_of()
        if status is not None:
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            raise error(status, phrase.lower().replace(" ", "_"), f"{phrase} (injected fault)")
        return await handler(request)

    return middleware
