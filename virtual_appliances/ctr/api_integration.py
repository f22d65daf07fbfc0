"""iroh-int: module types and module instances (VER-3, VER-8, REM-1), and iroh-sse devices (VER-2)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors
from .email_module import EmailModules
from .gate import caller, requires
from .modules import KINDS, ModuleInstance, ModuleKind, module_type_json, settings_problem
from .params import int_param, read_json
from .sightings import iso

if TYPE_CHECKING:
    from .cloud import CTRCloud

INT = "/iroh/iroh-int"
VISIBILITIES = ("global", "org", "user")
NEW_INSTANCE_KEYS = {"name", "module_type_id", "visibility", "parent_id", "settings", "external_references",
                     "enabled"}
PATCH_INSTANCE_KEYS = {"name", "module_type_id", "parent_id", "settings", "external_references", "enabled"}


class IntegrationApi:
    def __init__(self, ctr: CTRCloud, region: str, modules: EmailModules) -> None:
        self.ctr = ctr
        self.region = region
        self.modules = modules

    @property
    def instances(self) -> dict[str, ModuleInstance]:
        return self.ctr.region_state(self.region).modules

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{INT}/module-type", self.list_types),
            web.get(f"{INT}/module-type/{{id}}", self.get_type),
            web.get(f"{INT}/module-instance", self.list_instances),
            web.post(f"{INT}/module-instance", self.create_instance),
            web.get(f"{INT}/module-instance/{{id}}", self.get_instance),
            web.patch(f"{INT}/module-instance/{{id}}", self.patch_instance),
            web.delete(f"{INT}/module-instance/{{id}}", self.delete_instance),
            web.get("/iroh/iroh-sse/device", self.list_devices),
            web.get("/iroh/iroh-sse/device/{device_id}", self.get_device),
        ]

    # ---- module types ---------------------------------------------------------------------------
    def _type_json(self, kind: ModuleKind) -> dict[str, Any]:
        return module_type_json(kind, self.modules.device_choices(kind), self.ctr.started_at)

    @requires("integration/module-type:read")
    async def list_types(self, request: web.Request) -> web.Response:
        return web.json_response([self._type_json(k) for k in KINDS.values()])

    @requires("integration/module-type:read")
    async def get_type(self, request: web.Request) -> web.Response:
        kind = KINDS.get(request.match_info["id"])
        if kind is None:
            raise errors.not_found("No such module type")
        return web.json_response(self._type_json(kind))

    # ---- module instances -----------------------------------------------------------------------
    @requires("integration/module-instance:read")
    async def list_instances(self, request: web.Request) -> web.Response:
        q = request.query
        found = [m for m in self.instances.values()
                 if (not q.get("module_type_id") or m.kind.id == q["module_type_id"])
                 and (q.get("enabled") is None or str(m.enabled).lower() == q["enabled"].lower())
                 and (not q.get("query") or q["query"].lower() in m.name.lower())]
        offset, limit = int_param(request, "offset", 0), int_param(request, "limit", 100)
        return web.json_response([m.json() for m in found[offset:offset + limit]])

    @requires("integration/module-instance:read")
    async def get_instance(self, request: web.Request) -> web.Response:
        return web.json_response(self._instance(request).json())

    @requires("integration/module-instance:write")
    async def create_instance(self, request: web.Request) -> web.Response:
        body = await _object(request, NEW_INSTANCE_KEYS)
        for key in ("name", "module_type_id", "visibility"):
            if key not in body:
                raise errors.bad_request(f"{key}: missing-required-key")
        name = _string(body, "name")
        kind = KINDS.get(_string(body, "module_type_id"))
        if kind is None:
            raise errors.bad_request(f"module_type_id: no module type {body['module_type_id']!r}")
        if body["visibility"] not in VISIBILITIES:
            raise errors.bad_request(f"visibility must be one of {', '.join(VISIBILITIES)}")
        if kind.requires and not any(m.kind.key == kind.requires for m in self.instances.values()):
            required = next(k for k in KINDS.values() if k.key == kind.requires)
            raise errors.bad_request(f"module_type_id: the {kind.title} module needs a {required.title} "
                                     f"module: configure {required.title} first")
        settings, problem = settings_problem(kind, body.get("settings", {}), self.modules.device_choices(kind))
        if settings is None:
            raise errors.bad_request(problem)
        who = caller(request)
        now = iso(self.ctr.clock.now())
        instance = ModuleInstance(
            id=str(uuid.uuid4()), name=name, kind=kind, org_id=who.org_id, user_id=who.user_id,
            client_id=who.client_id, visibility=body["visibility"], enabled=_bool(body, "enabled", True),
            settings=settings, created_at=now, updated_at=now,
            external_references=_references(body),
        )
        self.instances[instance.id] = instance
        return web.json_response(instance.json())

    @requires("integration/module-instance:write")
    async def patch_instance(self, request: web.Request) -> web.Response:
        instance = self._instance(request)
        body = await _object(request, PATCH_INSTANCE_KEYS)
        if "module_type_id" in body and body["module_type_id"] != instance.kind.id:
            raise errors.bad_request("module_type_id: the module type of an instance cannot change")
        name = _string(body, "name") if "name" in body else instance.name
        settings = instance.settings
        if body.get("settings") is not None:
            patch = body["settings"]
            if not isinstance(patch, dict):
                raise errors.bad_request("settings must be an object")
            merged, problem = settings_problem(instance.kind, {**instance.settings, **patch},
                                               self.modules.device_choices(instance.kind))
            if merged is None:
                raise errors.bad_request(problem)
            settings = merged
        instance.name, instance.settings = name, settings
        if body.get("enabled") is not None:
            instance.enabled = _bool(body, "enabled", instance.enabled)
        if body.get("external_references") is not None:
            instance.external_references = _references(body)
        instance.updated_at = iso(self.ctr.clock.now())
        return web.json_response(instance.json())

    @requires("integration/module-instance:write")
    async def delete_instance(self, request: web.Request) -> web.Response:
        instance = self._instance(request)
        del self.instances[instance.id]
        return web.Response(status=204)

    def _instance(self, request: web.Request) -> ModuleInstance:
        instance = self.instances.get(request.match_info["id"])
        if instance is None:
            raise errors.not_found("No such module instance")
        return instance

    # ---- iroh-sse devices (VER-2) ---------------------------------------------------------------
    def _devices(self) -> list[dict[str, Any]]:
        # CTR sees SSE devices only once Threat Response is enabled on the Cloud Services tab (TS-1).
        if not self.ctr.sse.tenant(self.region).threat_response_enabled:
            return []
        return [d.public() for d in self.ctr.sse.devices(self.region)]

    @requires("sse/device:read")
    async def list_devices(self, request: web.Request) -> web.Response:
        return web.json_response(self._devices())

    @requires("sse/device:read")
    async def get_device(self, request: web.Request) -> web.Response:
        for device in self._devices():
            if device["id"] == request.match_info["device_id"]:
                return web.json_response(device)
        raise errors.not_found("No such device")


async def _object(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise errors.bad_request("the body must be a JSON object")
    extra = sorted(set(body) - allowed)
    if extra:
        raise errors.bad_request(f"{extra[0]}: disallowed-key")
    return body


def _string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise errors.bad_request(f"{key} must be a non-empty string")
    return value.strip()


def _bool(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise errors.bad_request(f"{key} must be true or false")
    return value


def _references(body: dict[str, Any]) -> list[dict[str, Any]]:
    refs = body.get("external_references") or []
    if not isinstance(refs, list) or not all(isinstance(r, dict) and isinstance(r.get("label"), str) for r in refs):
        raise errors.bad_request("external_references must be a list of {label, link, ...}")
    return refs
