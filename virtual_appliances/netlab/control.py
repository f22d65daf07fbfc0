"""Control plane of the network, mounted by the lab at ``/_sim/netlab``.

| route | body |
|---|---|
| ``GET /`` | the state: addresses, port, resolver, firewall mode and rules, DNS overrides, interception, proxy |
| ``POST /firewall`` | ``{"fqdn", "port": 443, "action": "allow"|"reject"|"drop"}`` |
| ``POST /dns`` | ``{"fqdn", "answer": null (NXDOMAIN) | "127.x.y.z"}`` or ``{"fqdn", "restore": true}`` |
| ``POST /intercept`` | ``{"fqdn", "enabled": bool}`` |
| ``POST /proxy`` | ``{"deny": [fqdn...], "auth": {"username", "password"} | null, "connect_timeout": real s}`` |
| ``POST /reset`` | firewall open, DNS normal, no interception, proxy open |

Port 443 in a firewall rule means the lab's HTTPS port: without root the sites listen on a high port
that plays the role of 443, and a scenario that blocks "443" must block that one. Every POST answers
with the new state. Errors: 400 names the bad field, 404 names the unknown FQDN.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..common.http import json_error, json_object
from .firewall import Action
from .network import NetLab, NetLabError, UnknownFqdn
from .proxy import ProxyAuth

_MISSING = object()


def control_app(lab: NetLab) -> web.Application:
    app = web.Application(middlewares=[_errors])
    routes = web.RouteTableDef()

    @routes.get("")
    @routes.get("/")
    async def state(request: web.Request) -> web.Response:
        return web.json_response(lab.state())

    @routes.post("/firewall")
    async def firewall(request: web.Request) -> web.Response:
        body = await _body(request, {"fqdn", "port", "action"})
        fqdn = _string(body, "fqdn")
        port = body.get("port", 443)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise _bad("port", "port must be an integer 1-65535")
        try:
            action = Action(str(body.get("action")))
        except ValueError:
            raise _bad("action", f"action must be one of {[a.value for a in Action]}") from None
        lab.set_firewall(fqdn, lab.https_port if port == 443 else port, action)
        return web.json_response(lab.state())

    @routes.post("/dns")
    async def dns(request: web.Request) -> web.Response:
        body = await _body(request, {"fqdn", "answer", "restore"})
        fqdn = _string(body, "fqdn")
        if body.get("restore") is True:
            lab.restore_dns(fqdn)
            return web.json_response(lab.state())
        if "restore" in body:
            raise _bad("restore", "restore must be true (or left out)")
        answer = body.get("answer", _MISSING)
        if answer is _MISSING:
            raise _bad("answer", "answer is required: null for NXDOMAIN or an IPv4 address")
        if answer is not None and not isinstance(answer, str):
            raise _bad("answer", "answer must be null or an IPv4 address string")
        try:
            lab.set_dns(fqdn, answer)
        except ValueError as exc:
            raise _bad("answer", str(exc)) from None
        return web.json_response(lab.state())

    @routes.post("/intercept")
    async def intercept(request: web.Request) -> web.Response:
        body = await _body(request, {"fqdn", "enabled"})
        fqdn = _string(body, "fqdn")
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise _bad("enabled", "enabled must be true or false")
        lab.set_intercept(fqdn, enabled)
        return web.json_response(lab.state())

    @routes.post("/proxy")
    async def proxy(request: web.Request) -> web.Response:
        body = await _body(request, {"deny", "auth", "connect_timeout"})
        deny = body.get("deny")
        if deny is not None and (not isinstance(deny, list) or not all(isinstance(d, str) for d in deny)):
            raise _bad("deny", "deny must be a list of FQDNs")
        auth = _auth(body["auth"]) if "auth" in body else None
        timeout = body.get("connect_timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                    or timeout <= 0):
            raise _bad("connect_timeout", "connect_timeout must be a positive number of seconds")
        # Everything validated; the deny list goes first since it can still fail (unknown FQDN).
        if deny is not None:
            lab.set_proxy_deny(deny)
        if "auth" in body:
            lab.set_proxy_auth(auth)
        if timeout is not None:
            lab.set_proxy_connect_timeout(float(timeout))
        return web.json_response(lab.state())

    @routes.post("/reset")
    async def reset(request: web.Request) -> web.Response:
        lab.reset()
        return web.json_response(lab.state())

    app.add_routes(routes)
    return app


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """The lab's own refusals as JSON: 404 naming the FQDN, 409/503 with the reason."""
    try:
        return await handler(request)  # type: ignore[no-any-return]
    except UnknownFqdn as exc:
        raise json_error(exc.status, str(exc), fqdn=exc.fqdn) from None
    except NetLabError as exc:
        raise json_error(exc.status, str(exc)) from None


def _bad(field: str, message: str) -> web.HTTPException:
    return json_error(400, message, field=field)


async def _body(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    body = await json_object(request)
    for key in body:
        if key not in allowed:
            raise _bad(key, f"unexpected field {key!r}; allowed: {sorted(allowed)}")
    return body


def _string(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _bad(field, f"{field} is required and must be a non-empty string")
    return value


def _auth(value: Any) -> ProxyAuth | None:
    if value is None:
        return None
    if (not isinstance(value, dict) or set(value) != {"username", "password"}
            or not all(isinstance(v, str) for v in value.values()) or not value["username"]
            or ":" in value["username"]):
        raise _bad("auth", 'auth must be null or {"username": "...", "password": "..."} '
                           "(username non-empty, without ':')")
    return ProxyAuth(value["username"], value["password"])
