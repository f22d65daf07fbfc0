"""The lab's own control-plane routes under ``/_sim``: health, clock, faults, one appliance's reset, stop.

The simulators mount their own routes beside these (``/_sim/appliances``, ``/_sim/sse``, ``/_sim/ctr``,
``/_sim/netlab``); docs/simulators.md lists them all. Bodies are JSON; a bad one is a 400 naming the field.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import __version__
from .common.clock import JUMP_WAIT_S
from .common.http import json_error, json_object
from .faults import FaultError

if TYPE_CHECKING:
    from .lab import Lab

log = logging.getLogger("virtual_appliances.lab")

CLOCK_KEYS = {"speed", "advance", "advance_to_next", "owner", "wait_seconds"}


def routes(lab: Lab) -> list[web.RouteDef]:
    # aiohttp wants coroutine functions as handlers (a lambda returning a coroutine is deprecated).
    async def health(request: web.Request) -> web.Response:
        return await _health(lab)

    async def clock_state(request: web.Request) -> web.Response:
        return await _clock_state(lab)

    async def clock(request: web.Request) -> web.Response:
        return await _clock(lab, request)

    async def faults(request: web.Request) -> web.Response:
        return await _faults(lab)

    async def fault(request: web.Request) -> web.Response:
        return await _fault(lab, request)

    async def shutdown(request: web.Request) -> web.Response:
        return await _shutdown(lab)

    return [
        web.get("/_sim/health", health), web.get("/_sim/clock", clock_state), web.post("/_sim/clock", clock),
        web.get("/_sim/faults", faults), web.post("/_sim/faults/{name}", fault),
        web.delete("/_sim/faults/{name}", fault), web.post("/_sim/shutdown", shutdown),
    ]


async def _health(lab: Lab) -> web.Response:
    return web.json_response({"status": "ok", "version": __version__, "appliances": len(lab.fleet),
                              "lab_id": lab.lab_id, "now": lab.clock.now().isoformat(), "speed": lab.clock.speed})


async def _clock_state(lab: Lab) -> web.Response:
    return web.json_response(lab.clock.snapshot())


async def _clock(lab: Lab, request: web.Request) -> web.Response:
    """``{"speed": s}``, ``{"advance": seconds}`` or ``{"advance_to_next": true, "owner": "esa1"}``."""
    body = await json_object(request)
    unknown = sorted(set(body) - CLOCK_KEYS)
    if unknown:
        raise json_error(400, f"clock: unknown field {unknown[0]!r}; fields: {', '.join(sorted(CLOCK_KEYS))}",
                         field=unknown[0])
    try:
        if "speed" in body:
            lab.clock.speed = _number(body, "speed")
        if "advance" in body:
            lab.clock.advance(_number(body, "advance"))
    except ValueError as exc:
        raise json_error(400, f"clock: {exc}") from None
    if not body.get("advance_to_next"):
        return web.json_response(lab.clock.snapshot())
    owner = body.get("owner")
    if owner is not None and (not isinstance(owner, str) or not owner):
        raise json_error(400, "clock: owner must be a non-empty string (an appliance name, sse:<region>, "
                              "ctr:<region> or lab)", field="owner")
    wait_s = _number(body, "wait_seconds") if "wait_seconds" in body else JUMP_WAIT_S
    event, settled = await lab.clock.advance_to_next(owner, min(wait_s, JUMP_WAIT_S))
    if event is not None:
        # DEBUG: one line per jump would swamp the log (and a caller's unread pipe) on a long run.
        log.debug("clock: ran to %s (%s) for %s", event.at.isoformat(), event.what, event.owner)
    return web.json_response({"fired": event.public() if event else None, "settled": settled,
                              **lab.clock.snapshot()})


def _number(body: dict[str, Any], key: str) -> float:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise json_error(400, f"clock: {key} must be a number, got {value!r}", field=key)
    return float(value)


async def _faults(lab: Lab) -> web.Response:
    from .faults import CATALOGUE

    return web.json_response({"faults": [f.public() for f in CATALOGUE], "active": lab.faults.public()})


async def _fault_body(request: web.Request) -> dict[str, Any]:
    return await json_object(request) if request.can_read_body else {}


async def _fault(lab: Lab, request: web.Request) -> web.Response:
    """POST sets the named fault, DELETE clears it; both answer with the faults now in force."""
    name = request.match_info["name"]
    setting = request.method == "POST"
    try:
        body = await _fault_body(request)
        result = ({"params": lab.faults.set(lab, name, body)} if setting
                  else {"cleared": lab.faults.clear(lab, name, body)})
    except FaultError as exc:
        raise json_error(exc.status, str(exc)) from None
    log.info("fault %s %s: %s", name, "set" if setting else "cleared", result)
    return web.json_response({"name": name, **result, "active": lab.faults.public()})


async def _shutdown(lab: Lab) -> web.Response:
    # Answer first, then stop: the caller waits for the control plane to go away.
    asyncio.get_running_loop().call_soon(lab.stopping.set)
    log.info("shutdown requested over the control plane")
    return web.json_response({"status": "stopping"}, status=202)
