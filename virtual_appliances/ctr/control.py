"""Control plane of the Threat Response simulator, mounted by the lab at ``/_sim/ctr``.

API clients are created here (the real ones are made in the portal's API Clients page); rate limits,
faults and key rotation put the cloud into the documented failure states. Client secrets are returned
once, on creation, and never shown again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..common.http import json_error, json_object, region_param
from .org import DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW_S
from .scopes import invalid_scope

if TYPE_CHECKING:
    from .cloud import CTRCloud


def control_app(ctr: CTRCloud) -> web.Application:
    app = web.Application()
    routes = web.RouteTableDef()

    @routes.get("")
    @routes.get("/")
    async def show_all(request: web.Request) -> web.Response:
        return web.json_response(ctr.snapshot())

    @routes.post("/reset")
    async def reset(request: web.Request) -> web.Response:
        ctr.reset()
        return web.json_response({"status": "reset"})

    @routes.get("/{region}")
    async def show(request: web.Request) -> web.Response:
        return web.json_response(ctr.region_state(region_param(request)).snapshot(ctr.clock.now()))

    @routes.post("/{region}/clients")
    async def create_client(request: web.Request) -> web.Response:
        key = region_param(request)
        body = await json_object(request)
        scopes = body.get("scopes")
        if not isinstance(scopes, list) or not scopes:
            raise json_error(400, "scopes must be a non-empty list of scope names", field="scopes")
        for scope in scopes:
            problem = invalid_scope(scope)
            if problem:
                raise json_error(400, problem, field="scopes")
        name = body.get("name", "ctrlab")
        if not isinstance(name, str) or not name.strip():
            raise json_error(400, "name must be a non-empty string", field="name")
        client_id, secret = ctr.create_client(key, [s.strip() for s in scopes], name.strip())
        client = ctr.region_state(key).clients[client_id]
        return web.json_response({**client.public(), "client_secret": secret}, status=201)

    @routes.delete("/{region}/clients/{client_id}")
    async def delete_client(request: web.Request) -> web.Response:
        if ctr.region_state(region_param(request)).clients.pop(request.match_info["client_id"], None) is None:
            raise json_error(404, "no such client")
        return web.Response(status=204)

    @routes.post("/{region}/rate-limit")
    async def rate_limit(request: web.Request) -> web.Response:
        state = ctr.region_state(region_param(request))
        body = await json_object(request)
        limit = _positive(body, "limit", state.rate.limit)
        window = _positive(body, "window_seconds", state.rate.window_s)
        state.rate.configure(limit, window)
        if body.get("reset_counter"):
            state.rate.clear()
        return web.json_response(state.snapshot(ctr.clock.now())["rate_limit"])

    @routes.delete("/{region}/rate-limit")
    async def default_rate_limit(request: web.Request) -> web.Response:
        state = ctr.region_state(region_param(request))
        state.rate.configure(DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW_S)
        state.rate.clear()
        return web.json_response(state.snapshot(ctr.clock.now())["rate_limit"])

    @routes.post("/{region}/faults")
    async def set_faults(request: web.Request) -> web.Response:
        state = ctr.region_state(region_param(request))
        body = await json_object(request)
        unknown = sorted(set(body) - {"api_status", "appliance_timeout_seconds"})
        if unknown:
            raise json_error(400, f"unknown fault {unknown[0]!r}; expected api_status, appliance_timeout_seconds")
        if "api_status" in body:
            status = body["api_status"]
            if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                                       or not 400 <= status <= 599):
                raise json_error(400, "api_status must be an HTTP error status (400-599) or null", field="api_status")
            state.faults.api_status = status
        if "appliance_timeout_seconds" in body:
            timeout = body["appliance_timeout_seconds"]
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                raise json_error(400, "appliance_timeout_seconds must be a positive number",
                                 field="appliance_timeout_seconds")
            state.faults.appliance_timeout_s = float(timeout)
        return web.json_response(state.snapshot(ctr.clock.now())["faults"])

    @routes.delete("/{region}/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        state = ctr.region_state(region_param(request))
        state.faults.clear()
        return web.json_response(state.snapshot(ctr.clock.now())["faults"])

    @routes.post("/{region}/tokens/revoke")
    async def revoke_tokens(request: web.Request) -> web.Response:
        """A new signing key: every access token issued so far gets 401 (ctr-api.md: 401 on a valid JWT)."""
        ctr.region_state(region_param(request)).authority.rotate()
        return web.json_response({"revoked": True})

    app.add_routes(routes)
    return app


def _positive(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise json_error(400, f"{key} must be a positive integer", field=key)
    return value
