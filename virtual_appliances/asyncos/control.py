"""Control plane for the appliance fleet, mounted at ``/_sim/appliances``.

It sets what a lab engineer would set outside the documented procedures (faults, cluster membership,
smart licensing, proxy, software version) and shows each appliance's state for debugging. The
documented procedures themselves are only reachable through SSH, HTTPS and SMTP.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..common.http import json_error, json_object
from .model import Appliance, Fleet
from .releases import GATEWAY_VARIANTS

FAULT_FIELDS = {"drop_ssh_after": (int, type(None)), "slow_reply_ms": (int,), "refuse_commit": (bool,),
                "http_status": (int, type(None))}
LAB_FIELDS = {"smart_licensing": (bool,), "cssm_registered": (bool,), "smart_account": (str,),
              "proxy": (str, type(None)), "cluster_name": (str, type(None))}
SPEC_FIELDS = {"version": (str,), "model": (str,), "gateway_variant": (str,)}

log = logging.getLogger("virtual_appliances.control")


ResetHook = Callable[[Appliance], Awaitable[dict[str, Any]]]


def control_app(fleet: Fleet, reset_hook: ResetHook | None = None) -> web.Application:
    """``reset_hook``: the lab's reset of one appliance with what it left in the cloud (else the model's own)."""
    app = web.Application()
    routes = web.RouteTableDef()

    def appliance(request: web.Request) -> Appliance:
        name = request.match_info["name"]
        try:
            return fleet[name]
        except KeyError:
            raise json_error(404, f"no appliance named {name!r}") from None

    @routes.get("")
    @routes.get("/")
    async def list_all(request: web.Request) -> web.Response:
        return web.json_response([a.snapshot() for a in fleet])

    @routes.get("/{name}")
    async def show(request: web.Request) -> web.Response:
        return web.json_response(appliance(request).snapshot())

    @routes.post("/{name}/reset")
    async def reset(request: web.Request) -> web.Response:
        target = appliance(request)
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            raise web.HTTPBadRequest(text="reset: the body must be JSON, e.g. {\"keep_faults\": true}") from None
        # keep_faults: the harness's speed-up of its own known-state procedure, which would not touch the faults a
        # lab engineer injected either.
        kept = dataclasses.replace(target.faults) if isinstance(body, dict) and body.get("keep_faults") else None
        cleaned = await reset_hook(target) if reset_hook is not None else (target.reset() or {})
        if kept is not None:
            vars(target.faults).update(vars(kept))  # the same object: sessions that hold it see the faults
        log.info("%s: reset to its first-boot state%s", target.spec.name, " (faults kept)" if kept is not None else "")
        return web.json_response({**target.snapshot(), "cleaned": cleaned})

    @routes.post("/{name}/faults")
    async def set_faults(request: web.Request) -> web.Response:
        target = appliance(request)
        body = await json_object(request)
        _assign(target.faults, body, FAULT_FIELDS)
        log.info("%s: faults set %s", target.spec.name, body)
        return web.json_response(target.snapshot())

    @routes.delete("/{name}/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        target = appliance(request)
        target.faults.clear()
        log.info("%s: faults cleared", target.spec.name)
        return web.json_response(target.snapshot())

    @routes.post("/{name}/lab")
    async def set_lab(request: web.Request) -> web.Response:
        target = appliance(request)
        body = await json_object(request)
        _assign(target.lab, body, LAB_FIELDS)
        # Names only: a proxy URL may hold a password.
        log.info("%s: lab settings changed: %s", target.spec.name, ", ".join(sorted(body)))
        if "cluster_name" in body:
            target.mode = "machine" if body["cluster_name"] else "standalone"
        return web.json_response(target.snapshot())

    @routes.post("/{name}/spec")
    async def set_spec(request: web.Request) -> web.Response:
        target = appliance(request)
        body = await json_object(request)
        if body.get("gateway_variant", GATEWAY_VARIANTS[0]) not in GATEWAY_VARIANTS:
            raise json_error(400, f"field 'gateway_variant' must be one of {list(GATEWAY_VARIANTS)}")
        _assign(target.spec, body, SPEC_FIELDS)
        log.info("%s: spec %s", target.spec.name, body)
        return web.json_response(target.snapshot())

    app.add_routes(routes)
    return app


def _assign(target: object, body: dict[str, Any], fields: dict[str, tuple[type, ...]]) -> None:
    for key, value in body.items():
        if key not in fields:
            raise json_error(400, f"unknown field {key!r}; expected one of {sorted(fields)}")
        # bool is an int subclass: refuse true/false where a number is expected
        if not isinstance(value, fields[key]) or (isinstance(value, bool) and bool not in fields[key]):
            names = "/".join("null" if t is type(None) else t.__name__ for t in fields[key])
            raise json_error(400, f"field {key!r} must be {names}, got {value!r}")
    for key, value in body.items():
        setattr(target, key, value)
