"""Small aiohttp helpers shared by the simulators' JSON endpoints."""

from __future__ import annotations

import json
from typing import Any
from wsgiref.handlers import format_date_time

from aiohttp import hdrs, web

from .clock import SimClock
from .regions import REGIONS


def json_error(status: int, message: str, **extra: Any) -> web.HTTPException:
    """An HTTP error with a JSON body ``{"error": message, ...}`` that can be raised from a handler."""
    exc = web.HTTPException(text=json.dumps({"error": message, **extra}), content_type="application/json")
    exc.set_status(status)
    return exc


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong."""
    try:
        body = await request.json()
    except ValueError:
        raise json_error(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise json_error(400, "the body must be a JSON object")
    return body


def region_param(request: web.Request) -> str:
    """The ``{region}`` path parameter, or a 404 that lists the regions."""
    key = request.match_info["region"]
    if key not in REGIONS:
        raise json_error(404, f"no region {key!r}; regions: {', '.join(REGIONS)}")
    return key


def date_from_clock(app: web.Application, clock: SimClock) -> None:
    """Stamp every response's ``Date`` header with the simulated clock: it is the appliance's own clock,
    the one its message tracking and commit timestamps use, and clients align their queries to it."""

    async def stamp(request: web.Request, response: web.StreamResponse) -> None:
        response.headers[hdrs.DATE] = format_date_time(clock.now().timestamp())

    app.on_response_prepare.append(stamp)
