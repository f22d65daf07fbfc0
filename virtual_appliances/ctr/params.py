"""Reading request bodies and query parameters, with IROH-shaped 400s."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import errors


async def read_json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise errors.bad_request("the body must be JSON") from None


def int_param(request: web.Request, name: str, default: int) -> int:
    """A non-negative integer query parameter (offset, limit)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return max(0, int(raw))
    except ValueError:
        raise errors.bad_request(f"{name} must be an integer, got {raw!r}") from None
