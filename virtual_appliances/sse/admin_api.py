"""The SSE admin API: what an administrator does in the SSE portal, as JSON over HTTPS.

The real portal (admin.sse.itd.cisco.com, ...) is a browser UI without a public API; this API mirrors its
screens (Cloud Services tab, Devices > "Add Devices and Generate Tokens", the device list) so a harness
can drive them. Every call needs ``Authorization: Bearer <admin api key>`` of that region. The routes are
documented in README.md beside this file.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .http import error, invalid
from .model import (
    DEFAULT_EXPIRATION,
    EXPIRATION_HOURS,
    MAX_DEVICES_PER_BATCH,
    THREAT_RESPONSE_ID,
    RegionSSE,
    TokenBatch,
    tokens_message,
)

if TYPE_CHECKING:
    from .cloud import SSECloud

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PREFIX = "/api/v1"


class AdminApi:
    def __init__(self, cloud: SSECloud, region: str) -> None:
        self.cloud = cloud
        self.region = region

    @property
    def state(self) -> RegionSSE:
        return self.cloud.region_state(self.region)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{PREFIX}/tenant", self.tenant),
            web.get(f"{PREFIX}/cloud-services", self.cloud_services),
            web.put(f"{PREFIX}/cloud-services/{{service}}", self.set_cloud_service),
            web.post(f"{PREFIX}/tokens", self.generate_tokens),
            web.get(f"{PREFIX}/tokens/{{batch_id}}/file", self.tokens_file),
            web.get(f"{PREFIX}/devices", self.list_devices),
            web.get(f"{PREFIX}/devices/{{device_id}}", self.get_device),
            web.delete(f"{PREFIX}/devices/{{device_id}}", self.delete_device),
        ]

    @web.middleware
    async def auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        key = key.strip()
        self.cloud.redactor.add(key)
        expected = self.cloud.admin_api_key(self.region)
        # A key of another region is as wrong as a made-up one: each portal has its own.
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.encode(), expected.encode()):
            raise error(401, "unauthorized", "A valid admin API key is required: Authorization: Bearer <api key>.")
        return await handler(request)

    # ---- tenant and cloud services (PRE-2) ------------------------------------------------------
    async def tenant(self, request: web.Request) -> web.Response:
        t = self.state.tenant
        return web.json_response({"name": t.name, "region": t.region, "cloud_services": t.cloud_services()})

    async def cloud_services(self, request: web.Request) -> web.Response:
        return web.json_response({"cloud_services": self.state.tenant.cloud_services()})

    async def set_cloud_service(self, request: web.Request) -> web.Response:
        if request.match_info["service"] != THREAT_RESPONSE_ID:
            raise error(404, "not_found", f"No cloud service {request.match_info['service']!r}; "
                                          f"the services are: {THREAT_RESPONSE_ID}.")
        body = await _body(request)
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            raise invalid("enabled", "enabled must be true or false")
        self.state.tenant.threat_response_enabled = enabled
        return web.json_response(self.state.tenant.cloud_services()[0])

    # ---- tokens (REG-1) -------------------------------------------------------------------------
    async def generate_tokens(self, request: web.Request) -> web.Response:
        body = await _body(request)
        count = body.get("devices", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_DEVICES_PER_BATCH:
            raise invalid("devices", f"devices must be an integer from 1 to {MAX_DEVICES_PER_BATCH}")
        expiration = body.get("expiration", DEFAULT_EXPIRATION)
        if expiration not in EXPIRATION_HOURS:
            raise invalid("expiration", f"expiration must be one of {', '.join(EXPIRATION_HOURS)}")
        batch = self.state.generate_tokens(count, expiration, self.cloud.clock.now())
        for token in batch.tokens:
            self.cloud.redactor.add(token)
        return web.json_response(_batch_json(batch), status=201)

    async def tokens_file(self, request: web.Request) -> web.Response:
        """"Save To File": the batch's tokens as text, one per line."""
        batch = self.state.batches.get(request.match_info["batch_id"])
        if batch is None:
            raise error(404, "not_found", "No such token batch.")
        return web.Response(text="".join(f"{t}\n" for t in batch.tokens), content_type="text/plain",
                            headers={"Content-Disposition": f'attachment; filename="sse-tokens-{batch.id}.txt"'})

    # ---- devices (VER-1) ------------------------------------------------------------------------
    async def list_devices(self, request: web.Request) -> web.Response:
        # The portal's "Device Name / ID" search box.
        search = request.query.get("search", "").strip().lower()
        devices = [d.public() for d in self.state.sorted_devices()
                   if not search or search in d.name.lower() or search in d.id]
        return web.json_response({"devices": devices})

    async def get_device(self, request: web.Request) -> web.Response:
        device = self.state.devices.get(request.match_info["device_id"])
        if device is None:
            raise error(404, "not_found", "No such device.")
        return web.json_response(device.public())

    async def delete_device(self, request: web.Request) -> web.Response:
        device = self.state.devices.pop(request.match_info["device_id"], None)
        if device is None:
            raise error(404, "not_found", "No such device.")
        self.cloud.log_event(self.region, "deleted", device)
        return web.Response(status=204)


def _batch_json(batch: TokenBatch) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        "tokens": list(batch.tokens),
        "expiration": batch.expiration,
        "valid_hours": batch.hours,
        "expires_at": batch.expires.isoformat(),
        "message": tokens_message(batch.hours),
    }


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        raise invalid("body", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise invalid("body", "the body must be a JSON object")
    return body
