"""iroh-inspect and iroh-enrich: find observables, then ask the configured modules about them.

Only the email modules (ESA, SMA Email) hold data in this lab; deliberate and refer have no module that
answers them, so their envelopes are empty.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors
from .email_module import EmailModules
from .gate import caller, requires
from .inspect import find_observables
from .observables import observable_list, unique
from .params import read_json

if TYPE_CHECKING:
    from .cloud import CTRCloud

INSPECT = "/iroh/iroh-inspect/inspect"
ENRICH = "/iroh/iroh-enrich"


class EnrichApi:
    def __init__(self, ctr: CTRCloud, region: str, modules: EmailModules) -> None:
        self.ctr = ctr
        self.region = region
        self.modules = modules

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(INSPECT, self.inspect),
            web.post(f"{ENRICH}/observe/observables", self.observe),
            web.post(f"{ENRICH}/deliberate/observables", self.deliberate),
            web.post(f"{ENRICH}/refer/observables", self.refer),
            web.post(f"{ENRICH}/health", self.health),
            web.post(f"{ENRICH}/health/{{module_instance_id}}", self.health_one),
            web.get(f"{ENRICH}/settings", self.settings),
        ]

    @requires("inspect:read")
    async def inspect(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        # The spec's 400 body: the offending keys with the reason (iroh-inspect definition "400").
        if not isinstance(body, dict) or "content" not in body:
            raise errors.http_error(400, {"content": "missing-required-key"})
        extra = sorted(set(body) - {"content"})
        if extra:
            raise errors.http_error(400, {extra[0]: "disallowed-key"})
        if not isinstance(body["content"], str):
            raise errors.http_error(400, {"content": "(not (instance? java.lang.String content))"})
        return web.json_response(find_observables(body["content"]))

    async def _observables(self, request: web.Request) -> list[dict[str, str]]:
        parsed = observable_list(await read_json(request))
        if isinstance(parsed, str):
            raise errors.bad_request(parsed)
        return unique(parsed)

    def _selected(self, request: web.Request, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The optional ``mids`` query parameter: only these module instances."""
        wanted = request.query.getall("mids", [])
        return [d for d in data if not wanted or d["module_instance_id"] in wanted]

    @requires("enrich/observables/observe:read")
    async def observe(self, request: web.Request) -> web.Response:
        observables = await self._observables(request)
        data, errs = await self.modules.observe(observables)
        return web.json_response({"data": self._selected(request, data), "errors": self._selected(request, errs)})

    @requires("enrich/observables/deliberate:read")
    async def deliberate(self, request: web.Request) -> web.Response:
        await self._observables(request)
        return web.json_response({"data": [], "errors": []})

    @requires("enrich/observables/refer:read")
    async def refer(self, request: web.Request) -> web.Response:
        await self._observables(request)
        return web.json_response({"data": [], "errors": []})

    @requires("integration/health:read")
    async def health(self, request: web.Request) -> web.Response:
        instances = self.modules.instances(lambda kind: True)
        data = await asyncio.gather(*(self.modules.health(i) for i in instances))
        return web.json_response({"data": list(data), "errors": []})

    @requires("integration/health:read")
    async def health_one(self, request: web.Request) -> web.Response:
        instance = self.ctr.region_state(self.region).modules.get(request.match_info["module_instance_id"])
        if instance is None:
            raise errors.not_found("No such module instance")
        return web.json_response({"data": await self.modules.health(instance), "errors": []})

    async def settings(self, request: web.Request) -> web.Response:
        """Any valid token may read it: the threatresponse client calls it to check a supplied token."""
        who = caller(request)
        state = self.ctr.region_state(self.region)
        return web.json_response({"data": {
            "org_id": who.org_id, "user_id": who.user_id, "client_id": who.client_id, "scopes": who.scopes,
            "modules": [{"module_instance_id": m.id, "module": m.name, "module_type_id": m.kind.id,
                         "enabled": m.enabled} for m in state.modules.values()],
        }})
