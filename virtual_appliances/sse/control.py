"""Control plane of the SSE simulator, mounted by the lab at ``/_sim/sse``.

It sets what no documented procedure can (expire every token now, inject faults) and shows the state of
each region for debugging. Token values and device secrets are never shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..common.http import json_error, json_object, region_param

if TYPE_CHECKING:
    from .cloud import SSECloud

FAULT_FIELDS = ("device_api_status", "admin_api_status")


def control_app(cloud: SSECloud) -> web.Application:
    app = web.Application()
    routes = web.RouteTableDef()

    @routes.get("")
    @routes.get("/")
    async def show_all(request: web.Request) -> web.Response:
        return web.json_response(cloud.snapshot())

    @routes.post("/reset")
    async def reset(request: web.Request) -> web.Response:
        cloud.reset()
        return web.json_response({"status": "reset"})

    @routes.put("/est/faults")
    @routes.post("/est/faults")
    async def est_faults(request: web.Request) -> web.Response:
        body = await json_object(request)
        cloud.est_fault_status = _status(body, "status")
        return web.json_response({"status": cloud.est_fault_status})

    @routes.delete("/est/faults")
    async def clear_est_faults(request: web.Request) -> web.Response:
        cloud.est_fault_status = None
        return web.json_response({"status": None})

    @routes.get("/{region}")
    async def show(request: web.Request) -> web.Response:
        return web.json_response(cloud.region_state(region_param(request)).snapshot(cloud.clock.now()))

    @routes.post("/{region}/tokens/expire")
    async def expire_tokens(request: web.Request) -> web.Response:
        count = cloud.region_state(region_param(request)).expire_tokens(cloud.clock.now())
        return web.json_response({"expired": count})

    @routes.post("/{region}/threat-response")
    async def threat_response(request: web.Request) -> web.Response:
        key = region_param(request)
        body = await json_object(request)
        if not isinstance(body.get("enabled"), bool):
            raise json_error(400, "enabled must be true or false", field="enabled")
        cloud.region_state(key).tenant.threat_response_enabled = body["enabled"]
        return web.json_response({"region": key, "threat_response_enabled": body["enabled"]})

    @routes.post("/{region}/faults")
    async def set_faults(request: web.Request) -> web.Response:
        state = cloud.region_state(region_param(request))
        body = await json_object(request)
        unknown = sorted(set(body) - set(FAULT_FIELDS))
        if unknown:
            raise json_error(400, f"unknown fault {unknown[0]!r}; expected one of {list(FAULT_FIELDS)}")
        for key in body:
            setattr(state.faults, key, _status(body, key))
        return web.json_response(state.snapshot(cloud.clock.now())["faults"])

    @routes.delete("/{region}/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        state = cloud.region_state(region_param(request))
        state.faults.clear()
        return web.json_response(state.snapshot(cloud.clock.now())["faults"])

    app.add_routes(routes)
    return app


def _status(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 400 <= value <= 599:
        raise json_error(400, f"{key} must be an HTTP error status (400-599) or null", field=key)
    return value
