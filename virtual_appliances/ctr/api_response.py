"""iroh-response: the remediation actions of the email modules (REM-2) and triggering them.

On a Cisco Message ID or an Email Message ID the email module offers Delete, Forward and Forward and
Delete; triggering one sends the remediation to the registered appliance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors
from .email_module import ACTIONS, EmailModules, error_entry
from .gate import requires
from .observables import OBSERVABLE_TYPES, Observable, observable, observable_list, observable_problem, unique
from .params import read_json

if TYPE_CHECKING:
    from .cloud import CTRCloud

RESPONSE = "/iroh/iroh-response"


class ResponseApi:
    def __init__(self, ctr: CTRCloud, region: str, modules: EmailModules) -> None:
        self.ctr = ctr
        self.region = region
        self.modules = modules

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{RESPONSE}/respond/observables", self.respond_observables),
            web.post(f"{RESPONSE}/respond/sighting", self.respond_sighting),
            web.post(f"{RESPONSE}/respond/trigger/{{module_instance_id}}/{{action_id}}", self.trigger),
        ]

    @requires("response/observables:read")
    async def respond_observables(self, request: web.Request) -> web.Response:
        parsed = observable_list(await read_json(request))
        if isinstance(parsed, str):
            raise errors.bad_request(parsed)
        return web.json_response({"data": self.modules.actions(unique(parsed)), "errors": []})

    @requires("response/sighting:read")
    async def respond_sighting(self, request: web.Request) -> web.Response:
        sighting = await read_json(request)
        if not isinstance(sighting, dict):
            raise errors.bad_request("the body must be a sighting")
        return web.json_response({"data": self.modules.actions(_sighting_observables(sighting)), "errors": []})

    @requires("response/trigger:write")
    async def trigger(self, request: web.Request) -> web.Response:
        state = self.ctr.region_state(self.region)
        instance = state.modules.get(request.match_info["module_instance_id"])
        if instance is None:
            raise errors.not_found(f"No module instance {request.match_info['module_instance_id']} "
                                   "in this organisation")
        action_id = request.match_info["action_id"]
        if action_id not in ACTIONS or not instance.kind.respond:
            raise errors.not_found(f"The module {instance.name!r} has no action {action_id!r}")
        kind, value = request.query.get("observable_type"), request.query.get("observable_value")
        if not kind or not value:
            raise errors.bad_request("observable_type and observable_value are required query parameters")
        if kind not in OBSERVABLE_TYPES:
            raise errors.bad_request(f"observable_type {kind!r} is not an observable type")
        if kind not in ("cisco_mid", "email_messageid"):
            failures = [error_entry(instance, "unsupported-observable",
                                    f"{ACTIONS[action_id][0]} applies to cisco_mid and email_messageid only")]
        else:
            failures = await self.modules.trigger(instance, action_id, observable(kind, value))
        status = "failure" if failures else "success"
        return web.json_response({"data": {"status": status}, "errors": failures})


def _sighting_observables(sighting: dict[str, Any]) -> list[Observable]:
    found: list[Any] = list(sighting.get("observables") or [])
    for relation in sighting.get("relations") or []:
        if isinstance(relation, dict):
            found += [relation.get("source"), relation.get("related")]
    return unique([observable(o["type"], o["value"]) for o in found if observable_problem(o) is None])
