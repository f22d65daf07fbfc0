"""Private intelligence (CTIA) casebooks on private.intel{,.eu,.apjc}.amp.cisco.com (RIB-2, RIB-4, RIB-5).

IDs are full URIs, ``https://private.intel.amp.cisco.com/ctia/casebook/casebook-<uuid>``; routes accept the
short ID or the percent-encoded URI. Observables may be of any CTIM type, as CTIA accepts them; the
ribbon's narrower list (RIB-5: ip, domain, url, sha256) is a property of the ribbon, checked by the harness.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..common.regions import REGIONS
from . import errors
from .gate import caller, requires
from .observables import observable_problem, unique
from .org import Casebook
from .params import int_param, read_json
from .sightings import iso

if TYPE_CHECKING:
    from .cloud import CTRCloud

BASE = "/ctia/casebook"
READ = ("casebook:read", "private-intel:read")
WRITE = ("casebook:write", "private-intel:write")
SCHEMA_VERSION = "1.3.9"
STRINGS = ("title", "description", "short_description", "source", "source_uri", "language")
STRING_LISTS = ("authorized_groups", "authorized_users", "external_ids", "groups")
TLPS = ("white", "green", "amber", "red")
# Keys a client may send (NewCasebook); id, owner, client_id and times are the server's.
CLIENT_KEYS = {*STRINGS, *STRING_LISTS, "observables", "texts", "bundle", "tlp", "type", "schema_version",
               "revision", "external_references", "timestamp", "id", "owner", "client_id", "created", "modified"}
OPERATIONS = ("add", "remove", "replace")


def validation_error(field: str, problem: str) -> web.HTTPException:
    """compojure-api's request-validation body, which names the offending field."""
    return errors.http_error(400, {"errors": {field: problem}, "type": "compojure.api.exception/request-validation",
                                   "in": ["request", "body-params"]})


class CasebookApi:
    def __init__(self, ctr: CTRCloud, region: str) -> None:
        self.ctr = ctr
        self.region = region
        self.host = REGIONS[region].private_intel

    @property
    def casebooks(self) -> dict[str, Casebook]:
        return self.ctr.region_state(self.region).casebooks

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(BASE, self.create),
            web.get(f"{BASE}/search", self.search),
            web.get(f"{BASE}/search/count", self.count),
            web.get(f"{BASE}/external_id/{{external_id}}", self.by_external_id),
            web.get(f"{BASE}/{{id}}", self.get),
            web.put(f"{BASE}/{{id}}", self.put),
            web.patch(f"{BASE}/{{id}}", self.patch),
            web.delete(f"{BASE}/{{id}}", self.delete),
            web.post(f"{BASE}/{{id}}/observables", self.update_observables),
            web.post(f"{BASE}/{{id}}/texts", self.update_texts),
            web.post(f"{BASE}/{{id}}/bundle", self.update_bundle),
        ]

    # ---- CRUD -----------------------------------------------------------------------------------
    @requires(*WRITE)
    async def create(self, request: web.Request) -> web.Response:
        fields = _fields(await read_json(request))
        short_id = f"casebook-{uuid.uuid4()}"
        casebook = Casebook(short_id, f"https://{self.host}{BASE}/{short_id}", {})
        self._store(casebook, fields, request, created=True)
        self.casebooks[short_id] = casebook
        return web.json_response(casebook.json(), status=201)

    @requires(*READ)
    async def get(self, request: web.Request) -> web.Response:
        return web.json_response(self._casebook(request).json())

    @requires(*WRITE)
    async def put(self, request: web.Request) -> web.Response:
        casebook = self._casebook(request)
        fields = _fields(await read_json(request))
        keep: dict[str, Any] = {k: casebook.body[k] for k in ("owner", "created", "client_id") if k in casebook.body}
        casebook.body = keep
        self._store(casebook, fields, request)
        return web.json_response(casebook.json())

    @requires(*WRITE)
    async def patch(self, request: web.Request) -> web.Response:
        casebook = self._casebook(request)
        self._store(casebook, _fields(await read_json(request)), request)
        return web.json_response(casebook.json())

    @requires(*WRITE)
    async def delete(self, request: web.Request) -> web.Response:
        casebook = self._casebook(request)
        del self.casebooks[casebook.short_id]
        return web.Response(status=204)

    # ---- partial updates ------------------------------------------------------------------------
    @requires(*WRITE)
    async def update_observables(self, request: web.Request) -> web.Response:
        casebook = self._casebook(request)
        operation, items = _operation(await read_json(request), "observables")
        for index, item in enumerate(items):
            problem = observable_problem(item)
            if problem:
                raise validation_error(f"observables[{index}]", problem)
        current = casebook.body.get("observables", [])
        casebook.body["observables"] = _apply(operation, current, [{"type": o["type"], "value": o["value"]}
                                                                   for o in items])
        self._touch(casebook)
        return web.json_response(casebook.json())

    @requires(*WRITE)
    async def update_texts(self, request: web.Request) -> web.Response:
        casebook = self._casebook(request)
        operation, items = _operation(await read_json(request), "texts")
        _check_texts(items)
        casebook.body["texts"] = _apply(operation, casebook.body.get("texts", []), items)
        self._touch(casebook)
        return web.json_response(casebook.json())

    @requires(*WRITE)
    async def update_bundle(self, request: web.Request) -> web.Response:
        casebook = self._casebook(request)
        body = await read_json(request)
        if not isinstance(body, dict) or body.get("operation") not in OPERATIONS:
            raise validation_error("operation", f"must be one of {', '.join(OPERATIONS)}")
        if not isinstance(body.get("bundle", {}), dict):
            raise validation_error("bundle", "must be an object")
        if body["operation"] == "remove":
            casebook.body.pop("bundle", None)
        else:
            casebook.body["bundle"] = {**(casebook.body.get("bundle", {}) if body["operation"] == "add" else {}),
                                       **body.get("bundle", {})}
        self._touch(casebook)
        return web.json_response(casebook.json())

    # ---- search ---------------------------------------------------------------------------------
    def _found(self, request: web.Request) -> list[Casebook]:
        q = request.query
        text = (q.get("query") or q.get("simple_query") or "*").strip()
        found = [c for c in self.casebooks.values() if _matches(c, text)]
        reverse = q.get("sort_order", "asc").lower() == "desc"
        key = q.get("sort_by", "created")
        return sorted(found, key=lambda c: str(c.json().get(key, "")), reverse=reverse)

    @requires(*READ)
    async def search(self, request: web.Request) -> web.Response:
        found = self._found(request)
        offset, limit = int_param(request, "offset", 0), int_param(request, "limit", 100)
        return web.json_response([c.json() for c in found[offset:offset + limit]])

    @requires(*READ)
    async def count(self, request: web.Request) -> web.Response:
        return web.json_response(len(self._found(request)))

    @requires(*READ)
    async def by_external_id(self, request: web.Request) -> web.Response:
        eid = request.match_info["external_id"]
        return web.json_response([c.json() for c in self.casebooks.values()
                                  if eid in c.body.get("external_ids", [])])

    # ---- helpers --------------------------------------------------------------------------------
    def _casebook(self, request: web.Request) -> Casebook:
        # The threatresponse client percent-encodes a full URI ID into one segment: keep its last part.
        short_id = request.match_info["id"].rstrip("/").rpartition("/")[2]
        casebook = self.casebooks.get(short_id)
        if casebook is None:
            raise errors.http_error(404, {"error": "casebook not found", "id": short_id})
        return casebook

    def _store(self, casebook: Casebook, fields: dict[str, Any], request: web.Request, created: bool = False) -> None:
        who = caller(request)
        now = iso(self.ctr.clock.now())
        body = casebook.body
        body.update(fields)
        body.setdefault("schema_version", SCHEMA_VERSION)
        body.setdefault("tlp", "amber")
        body.setdefault("observables", [])
        body.setdefault("texts", [])
        body.setdefault("timestamp", now)
        body["observables"] = unique(body["observables"])
        if created or "owner" not in body:
            body["owner"], body["client_id"], body["created"] = who.user_id, who.client_id, now
        self._touch(casebook, now)

    def _touch(self, casebook: Casebook, now: str | None = None) -> None:
        casebook.body["modified"] = now or iso(self.ctr.clock.now())


def _fields(body: Any) -> dict[str, Any]:
    """The client's fields of a NewCasebook (every field optional), checked; server-owned fields dropped."""
    if not isinstance(body, dict):
        raise validation_error("body", "must be a casebook object")
    extra = sorted(set(body) - CLIENT_KEYS)
    if extra:
        raise validation_error(extra[0], "disallowed-key")
    for key in STRINGS:
        if key in body and not isinstance(body[key], str):
            raise validation_error(key, "must be a string")
    for key in STRING_LISTS:
        if key in body and not (isinstance(body[key], list) and all(isinstance(v, str) for v in body[key])):
            raise validation_error(key, "must be a list of strings")
    if "type" in body and body["type"] != "casebook":
        raise validation_error("type", 'must be "casebook"')
    if "tlp" in body and body["tlp"] not in TLPS:
        raise validation_error("tlp", f"must be one of {', '.join(TLPS)}")
    if "bundle" in body and not isinstance(body["bundle"], dict):
        raise validation_error("bundle", "must be an object")
    if "external_references" in body and not (isinstance(body["external_references"], list)
                                              and all(isinstance(r, dict) for r in body["external_references"])):
        raise validation_error("external_references", "must be a list of objects")
    if "revision" in body and (isinstance(body["revision"], bool) or not isinstance(body["revision"], int)):
        raise validation_error("revision", "must be an integer")
    if "observables" in body and not isinstance(body["observables"], list):
        raise validation_error("observables", "must be a list of observables")
    for index, item in enumerate(body.get("observables", [])):
        problem = observable_problem(item)
        if problem:
            raise validation_error(f"observables[{index}]", problem)
    _check_texts(body.get("texts", []))
    kept = {k: v for k, v in body.items()
            if k not in ("id", "type", "owner", "client_id", "created", "modified", "timestamp")}
    if "observables" in kept:
        kept["observables"] = [{"type": o["type"], "value": o["value"]} for o in kept["observables"]]
    return kept


def _check_texts(items: Any) -> None:
    if not isinstance(items, list):
        raise validation_error("texts", "must be a list of {type, text}")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) - {"type", "text"} or not all(
                isinstance(v, str) for v in item.values()):
            raise validation_error(f"texts[{index}]", "must be {type, text} with string values")


def _operation(body: Any, key: str) -> tuple[str, list[Any]]:
    if not isinstance(body, dict):
        raise validation_error("body", f"must be {{operation, {key}}}")
    extra = sorted(set(body) - {"operation", key})
    if extra:
        raise validation_error(extra[0], "disallowed-key")
    if body.get("operation") not in OPERATIONS:
        raise validation_error("operation", f"must be one of {', '.join(OPERATIONS)}")
    items = body.get(key, [])
    if not isinstance(items, list):
        raise validation_error(key, "must be a list")
    return body["operation"], items


def _apply(operation: str, current: list[Any], items: list[Any]) -> list[Any]:
    if operation == "replace":
        return _dedupe(items)
    if operation == "add":
        return _dedupe([*current, *items])
    return [c for c in current if c not in items]


def _dedupe(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _matches(casebook: Casebook, text: str) -> bool:
    """A small subset of the ES query string: ``*``, ``field:value`` or words anywhere."""
    if text in ("", "*"):
        return True
    body = casebook.json()
    field, sep, value = text.partition(":")
    if sep and field in body and " " not in field:
        return value.strip().strip('"').lower() in str(body[field]).lower()
    haystack = " ".join([str(body.get(k, "")) for k in (*STRINGS, "id")]
                        + [o["value"] for o in body.get("observables", [])]
                        + [t.get("text", "") for t in body.get("texts", [])]).lower()
    return all(word.strip('"').lower() in haystack for word in text.split())
