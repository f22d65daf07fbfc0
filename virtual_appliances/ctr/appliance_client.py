"""How Threat Response calls a registered appliance back over HTTPS (docs/simulators.md).

Message tracking: ``GET {api_url}{prefix}/message-tracking/messages`` with the AsyncOS query parameters
(reference/asyncos.md section 2); remediation: ``POST {api_url}{prefix}/message-tracking/remediation``.
Both carry ``Authorization: Bearer <api_token>`` the device gave SSE when it registered. Every call has
a timeout and is recorded (redacted) in the lab's request log as ``ctr/<region>/appliance``.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from ..common.reqlog import RequestLog
from ..sse import Device
from .observables import Observable

log = logging.getLogger("virtual_appliances.ctr")

PAGE_SIZE = 100
MAX_PAGES = 10
API_DATE = "%Y-%m-%dT%H:%M:00.000Z"  # minute resolution: the AsyncOS API refuses seconds other than 00

# The message tracking filter for each observable type the email modules enrich.
_FILTERS: dict[str, Callable[[str], dict[str, str]]] = {
    "ip": lambda v: {"senderIp": v},
    "domain": lambda v: {"domainNameOperator": "is", "domainNameValue": v},
    "email": lambda v: {"envelopeSenderfilterOperator": "is", "envelopeSenderfilterValue": v},
    "email_subject": lambda v: {"subjectfilterOperator": "is", "subjectfilterValue": v},
    "cisco_mid": lambda v: {"ciscoMid": v},
    "email_messageid": lambda v: {"messageIdHeader": v},
    "sha256": lambda v: {"fileSha256": v},
    "file_name": lambda v: {"attachmentNameOperator": "is", "attachmentNameValue": v},
}


class ApplianceError(Exception):
    """The appliance could not answer; ``code`` goes into the enrich/response ``errors`` entry."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def tracking_window(now: datetime, days: int) -> tuple[str, str]:
    """startDate/endDate covering the last ``days`` days up to the end of the current minute."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return (end - timedelta(days=days)).strftime(API_DATE), end.strftime(API_DATE)


def tracking_filter(obs: Observable) -> dict[str, str] | None:
    make = _FILTERS.get(obs["type"])
    if make is None:
        return None
    if obs["type"] == "cisco_mid" and not obs["value"].strip().isdigit():
        return None  # a MID is a number; anything else matches no message
    return make(obs["value"].strip())


class ApplianceClient:
    def __init__(self, ssl_context: Callable[[], ssl.SSLContext], reqlog: RequestLog, service: str,
                 timeout: Callable[[], float]) -> None:
        self._make_ssl_context = ssl_context
        self._ssl: ssl.SSLContext | None = None
        self._reqlog = reqlog
        self._service = service
        self._timeout = timeout

    async def search_messages(self, device: Device, prefix: str, window: tuple[str, str],
                              filters: dict[str, str]) -> list[dict[str, Any]]:
        """The ``attributes`` of every tracked message matching the filters, across pages."""
        found: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            params = {"startDate": window[0], "endDate": window[1], "ciscoHost": "All_Hosts",
                      "searchOption": "messages", "offset": str(page * PAGE_SIZE), "limit": str(PAGE_SIZE),
                      **filters}
            reply = await self._call(device, "GET", f"{prefix}/message-tracking/messages", params=params)
            items = reply.get("data") if isinstance(reply, dict) else None
            if not isinstance(items, list):
                raise ApplianceError("invalid-response", f"{device.name} answered message tracking without data")
            found += [i["attributes"] for i in items if isinstance(i, dict) and isinstance(i.get("attributes"), dict)]
            total = (reply.get("meta") or {}).get("totalCount", len(found))
            if not items or len(found) >= int(total):
                break
        return found

    async def remediate(self, device: Device, prefix: str, mids: list[int], action: str,
                        forward_address: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {"mids": mids, "action": action}
        if forward_address:
            data["forwardAddress"] = forward_address
        reply = await self._call(device, "POST", f"{prefix}/message-tracking/remediation", json={"data": data})
        return reply if isinstance(reply, dict) else {}

    def _ssl_context(self) -> ssl.SSLContext:
        # One context for every call: building one loads the lab CA each time.
        if self._ssl is None:
            self._ssl = self._make_ssl_context()
        return self._ssl

    async def _call(self, device: Device, method: str, path: str, **kwargs: Any) -> Any:
        if not device.api_url or not device.api_token:
            raise ApplianceError("device-unreachable", f"{device.name} registered without an API URL")
        url = device.api_url.rstrip("/") + path
        started = time.monotonic()
        status = 0
        timeout = aiohttp.ClientTimeout(total=self._timeout())
        headers = {"Authorization": f"Bearer {device.api_token}", "Accept": "application/json"}
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.request(
                    method, url, headers=headers, ssl=self._ssl_context(), **kwargs) as resp:
                status = resp.status
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
            if status >= 400:
                raise ApplianceError("device-error", f"{device.name} answered HTTP {status}: {_message(body)}")
            return body
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            log.info("appliance %s unreachable: %s", device.id, reason)
            raise ApplianceError("device-unreachable",
                                 f"{device.name} could not be reached at {device.api_url}: {reason}") from None
        finally:
            self._reqlog.record(self._service, method=method, path=path, device_id=device.id,
                                query=kwargs.get("params", {}), status=status,
                                ms=round((time.monotonic() - started) * 1000, 1))


def _message(body: Any) -> str:
    """The AsyncOS error message ``{"error": {"message": ...}}``, or a generic one."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", "error"))
    return "error"
