"""The AsyncOS REST API v2.0 (reference/asyncos.md section 2), served over HTTPS.

ESA and content security gateways serve ``/esa/api/v2.0``, an SMA serves ``/sma/api/v2.0``. Three ways in:

* HTTP Basic with the administrator's credentials, on any call;
* ``POST .../login`` with base64 ``userName``/``passphrase`` -> a JWT, then a ``jwtToken`` header;
* ``Authorization: Bearer <appliance.api_token>``: the cloud calling back (docs/simulators.md), accepted for
  message tracking reads and remediation only.

Errors have the real shape ``{"error": {"message", "code", "explanation"}}``; the explanation is
``"<code> = <description>."`` with Python's HTTP status descriptions, which is what the documented
bodies are ("401 = No permission -- see authorization schemes.").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from aiohttp import web

from ..common.http import date_from_clock
from ..common.redact import Redactor
from . import messages as msg
from .json_limits import BodyLimitError, read_json
from .model import Appliance, Kind
from .tracking import TrackedMessage, match_value
from .web_common import USERNAME, asyncos_time, fault_middleware

API_VERSION = "v2.0"
JWT_LIFETIME_S = 30 * 60  # the user inactivity timeout (5-1440 min, default 30); wall-clock, like a real JWT
DEFAULT_LIMIT = 20  # inferred; clients page with limit <= 100
MAX_LIMIT = 1000
OPERATORS = ("is", "contains", "begins_with")
DATE_FORMAT_HINT = "YYYY-MM-DDTHH:MM:00.000Z"
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$")
PRIVILEGES = [  # the first two are documented (stix-shifter ping); the rest follow the endpoint names (inferred)
    "e_message_tracking_messages", "e_message_tracking_detail", "e_message_tracking_amp_details",
    "e_message_tracking_dlp_details", "e_message_tracking_url_details", "e_message_tracking_connection_details",
    "e_message_tracking_remediation", "e_health",
]


async def _json_body(request: web.Request) -> Any:
    """The body as JSON (``ValueError`` when it is not JSON); a 400 naming the limit it breaks."""
    try:
        return await read_json(request)
    except BodyLimitError as exc:
        raise ApiError(400, str(exc)) from None


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict[str, Any]:
    try:
        description = HTTPStatus(status).description
    except ValueError:
        description = "Error"
    return {"error": {"message": message, "code": str(status), "explanation": f"{status} = {description}."}}


def error_response(status: int, message: str | None = None) -> web.Response:
    if status < 200 or status in (204, 304):
        return web.Response(status=status)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return web.json_response(error_body(status, message or phrase), status=status)


# ---- JWT (HS256, stdlib only) -----------------------------------------------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class JwtSigner:
    """Issues and checks the ``jwtToken`` of ``POST /login``; the secret is per appliance."""

    def __init__(self, issuer: str, secret: bytes | None = None, lifetime_s: int = JWT_LIFETIME_S) -> None:
        self.issuer = issuer
        self._secret = secret or secrets.token_bytes(32)
        self.lifetime_s = lifetime_s

    def _sign(self, signing_input: str) -> str:
        return _b64url(hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest())

    def issue(self, username: str, role: str) -> str:
        now = int(time.time())
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        claims = {"iss": self.issuer, "sub": username, "userName": username, "role": role, "iat": now,
                  "exp": now + self.lifetime_s, "jti": uuid.uuid4().hex}
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._sign(f'{header}.{payload}')}"

    def verify(self, token: str) -> dict[str, Any]:
        """The claims, or ApiError 401 ``InvalidTokenError.`` / ``ExpiredSignatureError.``."""
        try:
            header_b64, payload_b64, signature = token.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(payload_b64))
        except (ValueError, binascii.Error):
            raise ApiError(401, msg.API_TOKEN_INVALID) from None
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
            raise ApiError(401, msg.API_TOKEN_INVALID)
        if not hmac.compare_digest(signature, self._sign(f"{header_b64}.{payload_b64}")):
            raise ApiError(401, msg.API_TOKEN_INVALID)
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            raise ApiError(401, msg.API_TOKEN_EXPIRED)
        return claims


# ---- request parsing ------------------------------------------------------------------------------------
def parse_api_date(name: str, value: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:00.000Z``; the real API refuses seconds other than 00."""
    m = _DATE.match(value.strip())
    if not m:
        raise ApiError(400, f"Invalid {name} '{value}': expected the format {DATE_FORMAT_HINT}.")
    year, month, day, hour, minute, second, fraction = m.groups()
    if int(second) != 0 or (fraction and int(fraction) != 0):
        raise ApiError(400, f"Invalid {name} '{value}': seconds must be 00 ({DATE_FORMAT_HINT}).")
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), tzinfo=UTC)
    except ValueError:
        raise ApiError(400, f"Invalid {name} '{value}': not a calendar date.") from None


def _int_param(query: Mapping[str, str], name: str, default: int | None, minimum: int = 0) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name} '{raw}': expected an integer.") from None
    if value < minimum:
        raise ApiError(400, f"Invalid {name} '{raw}': must be at least {minimum}.")
    return value


def _operator(query: Mapping[str, str], name: str) -> str:
    op = query.get(name) or "begins_with"
    if op not in OPERATORS:
        raise ApiError(400, f"Invalid {name} '{op}': expected one of {', '.join(OPERATORS)}.")
    return op


@dataclass
class TrackingSearch:
    """The query parameters of ``GET /message-tracking/messages`` (reference/asyncos.md section 2)."""

    start: datetime
    end: datetime
    filters: dict[str, Any]  # keyword arguments of MessageTracking.search
    attachment: tuple[str, str] | None  # (operator, value) of attachmentNameOperator/Value
    domain: tuple[str, str] | None  # (operator, value) of domainNameOperator/Value
    cisco_host: str  # ciscoHost
    offset: int
    limit: int

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> TrackingSearch:
        start, end = date_range(query)
        filters: dict[str, Any] = {}
        for prefix, key in (("subject", "subject"), ("envelopeSender", "sender"),
                            ("envelopeRecipient", "recipient")):
            value = query.get(f"{prefix}filterValue")
            if value:
                filters[key] = value
                filters[f"{key}_op"] = _operator(query, f"{prefix}filterOperator")
        for param, key in (("fileSha256", "sha256"), ("senderIp", "sender_ip"), ("messageIdHeader", "message_id")):
            if query.get(param):
                filters[key] = query[param]
        mid = _int_param(query, "ciscoMid", None)
        if mid is not None:
            filters["mid"] = mid
        return cls(
            start=start, end=end, filters=filters,
            attachment=_op_pair(query, "attachmentNameOperator", "attachmentNameValue"),
            domain=_op_pair(query, "domainNameOperator", "domainNameValue"),
            cisco_host=query.get("ciscoHost", "All_Hosts") or "All_Hosts",
            offset=_int_param(query, "offset", 0) or 0,
            limit=min(_int_param(query, "limit", DEFAULT_LIMIT, minimum=1) or DEFAULT_LIMIT, MAX_LIMIT),
        )

    def accepts(self, m: TrackedMessage) -> bool:
        """The filters MessageTracking.search has no operator for."""
        if self.attachment and not any(match_value(a.name, self.attachment[1], self.attachment[0])
                                       for a in m.attachments):
            return False
        return not (self.domain and not match_value(m.sender_domain, self.domain[1], self.domain[0]))


def _op_pair(query: Mapping[str, str], op_name: str, value_name: str) -> tuple[str, str] | None:
    value = query.get(value_name)
    return (_operator(query, op_name), value) if value else None


def date_range(query: Mapping[str, str]) -> tuple[datetime, datetime]:
    if not query.get("startDate") or not query.get("endDate"):
        raise ApiError(404, msg.API_MISSING_DATES)
    start = parse_api_date("startDate", query["startDate"])
    # Why +59.999 s: dates have minute resolution and the end minute belongs to the range.
    end = parse_api_date("endDate", query["endDate"]) + timedelta(seconds=59, microseconds=999999)
    return start, end


# ---- response shapes -----------------------------------------------------------------------------------
def message_attributes(m: TrackedMessage, appliance: Appliance) -> dict[str, Any]:
    """One ``data[].attributes`` of the messages search, as in the documented sample."""
    key = str(m.mid)
    return {
        "hostName": appliance.spec.hostname,
        "serialNumber": appliance.spec.serial,
        "mid": [m.mid],
        "icid": m.icid,
        "allIcid": [m.icid],
        "dcid": [m.dcid],
        "messageStatus": {key: m.state},
        "recipientMap": {key: list(m.recipients)},
        "recipient": list(m.recipients),
        "sender": m.sender,
        "friendly_from": [m.sender],
        "senderIp": m.sender_ip,
        "senderDomain": m.sender_domain,
        "senderGroup": "UNKNOWNLIST",
        "mailPolicy": ["DEFAULT"],
        "subject": m.subject,
        "finalSubject": {key: m.subject},
        "messageID": {key: f"<{m.message_id}>"},
        "direction": "incoming",
        "timestamp": asyncos_time(m.timestamp),
        "replyTo": "N/A",
        "isCompleteData": "N/A",
        "sbrs": "None",
        "morDetails": {},
        "attachments": [{"name": a.name, "sha256": a.sha256} for a in m.attachments],
    }


def message_details(m: TrackedMessage, appliance: Appliance) -> dict[str, Any]:
    """``data.messages`` of ``/message-tracking/details`` (shape of the CiscoSMA sample, inferred beyond it)."""
    last = len(m.events) - 1
    return {
        "mid": [m.mid],
        "icid": m.icid,
        "dcid": [m.dcid],
        "hostName": appliance.spec.hostname,
        "serialNumber": appliance.spec.serial,
        "sender": m.sender,
        "recipient": list(m.recipients),
        "subject": m.subject,
        "messageID": f"<{m.message_id}>",
        "timestamp": asyncos_time(m.timestamp),
        "direction": "incoming",
        "messageStatus": m.state,
        "showAMP": False,
        "attachments": [{"name": a.name, "sha256": a.sha256} for a in m.attachments],
        "sendingHostSummary": {"ipAddress": m.sender_ip, "reverseDnsHostname": "unknown", "sbrsScore": "None"},
        "summary": [{"timestamp": asyncos_time(when), "description": text, "lastEvent": i == last}
                    for i, (when, text) in enumerate(m.events)],
        "remediations": list(m.remediations),
    }


# ---- the application -----------------------------------------------------------------------------------
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def api_app(appliance: Appliance, redactor: Redactor, middlewares: Sequence = ()) -> web.Application:
    api = RestApi(appliance, redactor)
    app = web.Application(middlewares=[*middlewares, fault_middleware(appliance, error_response),
                                       api.error_middleware])
    app.add_routes(api.routes())
    date_from_clock(app, appliance.clock)
    return app


class RestApi:
    def __init__(self, appliance: Appliance, redactor: Redactor) -> None:
        self.appliance = appliance
        self.redactor = redactor
        self.jwt = JwtSigner(appliance.spec.hostname)
        self.product = "sma" if appliance.spec.kind is Kind.SMA else "esa"
        self.prefix = f"/{self.product}/api/{API_VERSION}"
        redactor.add(appliance.password)
        redactor.add(appliance.api_token)

    def routes(self) -> list[web.RouteDef]:
        p = self.prefix
        return [
            web.post(f"{p}/login", self.login),
            web.get(f"{p}/login/privileges", self.privileges),
            web.get(f"{p}/health", self.health),
            web.get(f"{p}/message-tracking/messages", self.messages),
            web.get(f"{p}/message-tracking/details", self.details),
            web.post(f"{p}/message-tracking/remediation", self.remediation),
        ]

    @web.middleware
    async def error_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)
        except web.HTTPNotFound:
            return error_response(404, msg.API_NOT_FOUND)
        except web.HTTPMethodNotAllowed as exc:
            return error_response(405, f"Method {exc.method} is not allowed for {request.path}.")

    # ---- authentication ------------------------------------------------------------------------------
    def _credentials_ok(self, username: str, password: str) -> bool:
        return username == USERNAME and hmac.compare_digest(password.encode(), self.appliance.password.encode())

    def authenticate(self, request: web.Request, cloud: bool = False) -> str:
        """Who is calling: the user name, or "cloud" for the api_token (only where ``cloud`` is allowed)."""
        token = request.headers.get("jwtToken")
        if token:
            return str(self.jwt.verify(token).get("userName", USERNAME))
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError(401, msg.API_BAD_CREDENTIALS) from None
            if self._credentials_ok(username, password):
                return username
        elif scheme.lower() == "bearer" and cloud and hmac.compare_digest(value.strip().encode(),
                                                                          self.appliance.api_token.encode()):
            return "cloud"
        raise ApiError(401, msg.API_BAD_CREDENTIALS)

    async def login(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await _json_body(request)  # a broken size or depth limit is a 400 naming it
            data = body["data"]
            username = base64.b64decode(data["userName"], validate=True).decode()
            password = base64.b64decode(data["passphrase"], validate=True).decode()
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ApiError(401, msg.API_BAD_CREDENTIALS) from None
        if not self._credentials_ok(username, password):
            raise ApiError(401, msg.API_BAD_CREDENTIALS)
        token = self.jwt.issue(username, "Administrator")
        self.redactor.add(token)
        return web.json_response({"data": {"userName": username, "is2FactorRedirectRequired": "false",
                                           "role": "Administrator", "email": [], "jwtToken": token}})

    async def privileges(self, request: web.Request) -> web.StreamResponse:
        self.authenticate(request)
        return web.json_response({"data": PRIVILEGES})

    async def health(self, request: web.Request) -> web.StreamResponse:
        self.authenticate(request)
        # Shape inferred (ESA 14 "system health" API): a quiet lab appliance.
        return web.json_response({"data": {
            "percentage_cpu_load": 2, "percentage_ram_utilization": 18, "percentage_swap_utilization": 0,
            "percentage_queue_utilization": 0.0, "resource_conservation": 0,
        }})

    # ---- message tracking ----------------------------------------------------------------------------
    async def messages(self, request: web.Request) -> web.StreamResponse:
        self.authenticate(request, cloud=True)
        search = TrackingSearch.from_query(request.query)
        found: list[TrackedMessage] = []
        if search.cisco_host in ("All_Hosts", self.appliance.spec.hostname, self.appliance.spec.serial):
            found = [m for m in self.appliance.tracking.search(start=search.start, end=search.end, **search.filters)
                     if search.accepts(m)]
        page = found[search.offset: search.offset + search.limit]
        return web.json_response({
            "meta": {"num_bad_records": 0, "totalCount": len(found)},
            "data": [{"attributes": message_attributes(m, self.appliance)} for m in page],
        })

    async def details(self, request: web.Request) -> web.StreamResponse:
        self.authenticate(request, cloud=True)
        start, end = date_range(request.query)
        mid = _int_param(request.query, "mid", None)
        if mid is None:
            raise ApiError(400, "Missing attribute - mid.")
        message = self.appliance.tracking.get(mid)
        if message is None or not start <= message.timestamp <= end:
            raise ApiError(404, f"No message with MID {mid} in the given time range.")
        return web.json_response({"data": {"messages": message_details(message, self.appliance)}})

    async def remediation(self, request: web.Request) -> web.StreamResponse:
        self.authenticate(request, cloud=True)
        mids, action, forward = await self._remediation_request(request)
        if not self.appliance.committed.remediation_profile:  # REM-1: the committed profile, not a staged one
            raise ApiError(403, msg.API_REMEDIATION_DISABLED)
        try:
            done = self.appliance.tracking.remediate(mids, action, forward)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        remediated = [m.mid for m in done]
        return web.json_response({"data": {
            "action": action, "forwardAddress": forward, "mids": remediated,
            "notFound": [mid for mid in mids if mid not in remediated],
        }})

    @staticmethod
    async def _remediation_request(request: web.Request) -> tuple[list[int], str, str | None]:
        try:
            body = await _json_body(request)
        except ValueError:
            raise ApiError(400, "The request body must be JSON.") from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise ApiError(400, 'The request body must be {"data": {"mids": [...], "action": "..."}}.')
        mids = data.get("mids")
        try:
            if not isinstance(mids, list) or not mids:
                raise ValueError
            mid_list = [int(m) for m in mids]
        except (TypeError, ValueError):
            raise ApiError(400, "mids must be a non-empty list of message IDs.") from None
        action = data.get("action")
        if action not in ("delete", "forward", "forward_and_delete"):
            raise ApiError(400, "action must be one of delete, forward, forward_and_delete.")
        forward = data.get("forwardAddress") or None
        if action != "delete" and (not isinstance(forward, str) or "@" not in forward):
            raise ApiError(400, "forwardAddress must be an email address for forward actions.")
        return mid_list, action, forward
