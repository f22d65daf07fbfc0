"""The AsyncOS REST API v2.0 (reference/asyncos.md section 2): login, health, message tracking.

ESA (and content security gateways) answer under ``/esa/api/v2.0``, an SMA under ``/sma/api/v2.0``.
Authentication is the JWT login (base64 ``userName``/``passphrase`` -> ``jwtToken`` header), falling back
to HTTP Basic on releases without it; an expired JWT is renewed once. Tracking dates have minute
resolution and the API refuses seconds other than 00, so ranges are widened to whole minutes.
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from ..errors import ApiError, AuthenticationFailed
from ..http import DEFAULT_TIMEOUT, HttpSession, Timeout
from ..retries import default_policy
from ..transcript import Transcript, mask_body

API_VERSION = "v2.0"
PAGE_LIMIT = 100  # what public clients use per page
MAX_PAGES = 50
# Pythonic filter name -> (value parameter, operator parameter or None): the API's real names.
FILTERS: dict[str, tuple[str, str | None]] = {
    "subject": ("subjectfilterValue", "subjectfilterOperator"),
    "sender": ("envelopeSenderfilterValue", "envelopeSenderfilterOperator"),
    "recipient": ("envelopeRecipientfilterValue", "envelopeRecipientfilterOperator"),
    "attachment": ("attachmentNameValue", "attachmentNameOperator"),
    "domain": ("domainNameValue", "domainNameOperator"),
    "message_id": ("messageIdHeader", None),
    "cisco_mid": ("ciscoMid", None),
    "sender_ip": ("senderIp", None),
    "sha256": ("fileSha256", None),
    "delivery_status": ("deliveryStatus", None),
}
OPERATORS = ("is", "contains", "begins_with")


def api_date(moment: datetime, round_up: bool = False) -> str:
    """``YYYY-MM-DDTHH:MM:00.000Z`` (UTC); ``round_up`` takes the next whole minute if needed."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    floor = moment.replace(second=0, microsecond=0)
    if round_up and floor != moment:
        floor += timedelta(minutes=1)
    return floor.strftime("%Y-%m-%dT%H:%M:00.000Z")


@dataclass
class TrackingRecord:
    """One ``data[].attributes`` of ``/message-tracking/messages``."""

    mids: list[int]
    subject: str
    sender: str
    recipients: list[str]
    status: dict[str, str]  # MID -> last state, e.g. {"1619": "Delivered"}
    message_ids: dict[str, str]  # MID -> Message-ID header
    timestamp: str
    host: str
    serial: str
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def mid(self) -> int | None:
        return self.mids[0] if self.mids else None

    @property
    def last_state(self) -> str:
        return next(iter(self.status.values()), "")

    @classmethod
    def from_attributes(cls, a: Mapping[str, Any]) -> TrackingRecord:
        mids = [m for m in a.get("mid") or [] if isinstance(m, int)]
        return cls(mids=mids, subject=str(a.get("subject", "")), sender=str(a.get("sender", "")),
                   recipients=list(a.get("recipient") or []), status=dict(a.get("messageStatus") or {}),
                   message_ids=dict(a.get("messageID") or {}), timestamp=str(a.get("timestamp", "")),
                   host=str(a.get("hostName", "")), serial=str(a.get("serialNumber", "")), raw=dict(a))


SKEW_MAX_AGE_S = 1.0


class AsyncOSRest:
    def __init__(self, base_url: str, username: str, password: str, *, kind: str = "esa", name: str = "appliance",
                 verify: bool | str = True, timeout: Timeout = DEFAULT_TIMEOUT, transcript: Transcript | None = None,
                 auth: str = "auto", clock: Callable[[], datetime] | None = None) -> None:
        product = "sma" if kind == "sma" else "esa"  # gateways serve the ESA API
        self.base = f"{base_url.rstrip('/')}/{product}/api/{API_VERSION}"
        self.username = username
        self._password = password
        self.what = f"{name} REST API"
        self.auth_mode = auth  # auto (JWT, else Basic) | jwt | basic
        # The appliance's "now": tracking windows are relative to the appliance's clock, not this
        # machine's. Given a clock, it is used; otherwise the appliance's own HTTP Date header tells
        # how far its clock is from ours (a lab appliance without NTP, a simulator's sped-up clock).
        self.clock = clock
        self._skew: timedelta | None = None
        self._skew_learned = 0.0
        # Every 429 and the 5xx of GETs are retried (harness/retries.py); a 5xx to a POST is not.
        self.http = HttpSession(self.what, verify=verify, timeout=timeout, transcript=transcript,
                                retry=default_policy())
        self.transcript = self.http.transcript
        self.transcript.add_credentials(username, password)  # Basic auth sends username:password
        self.transcript.add_secret(_b64(password))  # the JWT login sends it base64-encoded
        self._jwt: str | None = None
        self.method: str | None = None  # "jwt" or "basic" once authenticated

    # ---- authentication -------------------------------------------------------------------------
    def login(self) -> str:
        """Authenticate; returns "jwt" or "basic"."""
        if self.auth_mode == "basic":
            self.method = "basic"
            return self.method
        body = {"data": {"userName": _b64(self.username), "passphrase": _b64(self._password)}}
        response = self.http.post(f"{self.base}/login", json=body)
        self._learn_skew(response)
        if response.status_code == 200:
            token = (response.json().get("data") or {}).get("jwtToken")
            if token:
                self.transcript.add_secret(token)
                self._jwt, self.method = token, "jwt"
                return self.method
        if response.status_code in (401, 403):
            raise AuthenticationFailed(self.what, self.base, self.transcript.redact(_error_message(response)))
        if self.auth_mode == "jwt":
            raise self._error("POST", f"{self.base}/login", response)
        self.method = "basic"  # no JWT login on this release: Basic on every call
        return self.method

    def appliance_now(self) -> datetime:
        """The appliance's current time: the given clock, else ours corrected by its Date header."""
        if self.clock is not None:
            return self.clock()
        # The skew is re-learned when older than a second: a lab appliance's clock may run faster
        # than ours (a simulator's sped-up clock), so an old estimate would lag behind its messages.
        if self._skew is None or time.monotonic() - self._skew_learned > SKEW_MAX_AGE_S:
            self._skew = None
            with contextlib.suppress(ApiError):  # any answer carries a Date header, an error too
                if self.method is None:
                    self.login()
                if self._skew is None:
                    self.health()  # Basic authentication has no login exchange to learn from
        return datetime.now(UTC) + (self._skew or timedelta(0))

    def _learn_skew(self, response: requests.Response) -> None:
        value = response.headers.get("Date")
        if not value:
            return
        try:
            stamp = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        # Why only beyond 2 s: the header has whole seconds; smaller differences are rounding.
        skew = stamp - datetime.now(UTC)
        self._skew = skew if abs(skew) > timedelta(seconds=2) else timedelta(0)
        self._skew_learned = time.monotonic()

    def _headers(self) -> dict[str, str]:
        if self.method is None:
            self.login()
        if self.method == "jwt" and self._jwt:
            return {"jwtToken": self._jwt}
        return {"Authorization": "Basic " + _b64(f"{self.username}:{self._password}")}

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None) -> Any:
        """Call the API and return its JSON; re-login once when a JWT expired."""
        url = f"{self.base}/{path.lstrip('/')}"
        response = self.http.request(method, url, params=params, json=json, headers=self._headers())
        if response.status_code == 401 and self.method == "jwt":
            self._jwt, self.method = None, None  # ExpiredSignatureError / InvalidTokenError: log in again
            response = self.http.request(method, url, params=params, json=json, headers=self._headers())
        self._learn_skew(response)
        if response.status_code == 401:
            raise AuthenticationFailed(self.what, self.base, self.transcript.redact(_error_message(response)))
        if not response.ok:
            raise self._error(method, url, response)
        return response.json() if response.content else None

    # ---- endpoints ------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self.request("GET", "health") or {}

    def privileges(self) -> list[str]:
        return list((self.request("GET", "login/privileges") or {}).get("data") or [])

    def tracking_messages(self, *, start: datetime | None = None, end: datetime | None = None,
                          window: timedelta = timedelta(days=1), operator: str = "begins_with",
                          cisco_host: str = "All_Hosts", limit: int = PAGE_LIMIT, all_pages: bool = True,
                          raw_params: Mapping[str, str] | None = None, **filters: Any) -> list[TrackingRecord]:
        """Search message tracking; filters by their Pythonic names (``subject=``, ``sender=``,
        ``recipient=``, ``attachment=``, ``domain=``, ``message_id=``, ``cisco_mid=``, ``sender_ip=``,
        ``sha256=``, ``delivery_status=``), ``<name>_operator=`` overriding ``operator`` for one of them.
        The range defaults to ``window`` up to the appliance's now, widened to whole minutes."""
        end = end or self.appliance_now()
        start = start or end - window
        params: dict[str, Any] = {"startDate": api_date(start), "endDate": api_date(end, round_up=True),
                                  "ciscoHost": cisco_host, "searchOption": "messages"}
        for name, value in filters.items():
            if name.endswith("_operator") or value is None:
                continue
            if name not in FILTERS:
                raise TypeError(f"unknown tracking filter {name!r}; known: {sorted(FILTERS)}")
            value_param, op_param = FILTERS[name]
            params[value_param] = value
            if op_param:
                op = filters.get(f"{name}_operator", operator)
                if op not in OPERATORS:
                    raise ValueError(f"operator {op!r} is not one of {OPERATORS}")
                params[op_param] = op
        params.update(raw_params or {})
        records: list[TrackingRecord] = []
        offset = 0
        for _ in range(MAX_PAGES):
            body = self.request("GET", "message-tracking/messages",
                                params={**params, "offset": offset, "limit": limit}) or {}
            data = body.get("data") or []
            for item in data:
                record = TrackingRecord.from_attributes(item.get("attributes") or {})
                if record.mids:  # "N/A" means no match (demisto CiscoESA.py)
                    records.append(record)
            offset += len(data)
            total = (body.get("meta") or {}).get("totalCount")
            if not all_pages or not data or len(data) < limit or (isinstance(total, int) and offset >= total):
                break
        return records

    def tracking_details(self, mid: int, *, start: datetime | None = None, end: datetime | None = None,
                         window: timedelta = timedelta(days=1), serial_number: str | None = None) -> dict[str, Any]:
        end = end or self.appliance_now()
        start = start or end - window
        params = {"mid": mid, "startDate": api_date(start), "endDate": api_date(end, round_up=True)}
        if serial_number:
            params["serialNumber"] = serial_number
        body = self.request("GET", "message-tracking/details", params=params) or {}
        return (body.get("data") or {}).get("messages") or {}

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> AsyncOSRest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self, method: str, url: str, response: requests.Response) -> ApiError:
        body = self.transcript.redact(mask_body(response.content, response.headers.get("Content-Type", "")))
        return ApiError(self.what, method, url, response.status_code, body)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _error_message(response: requests.Response) -> str:
    try:
        error = response.json().get("error")
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(error, dict):
        return str(error.get("message", ""))
    return str(error or f"HTTP {response.status_code}")
