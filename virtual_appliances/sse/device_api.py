"""The connector protocol, appliance -> SSE (docs/simulators.md): register, deregister, reregister.

Served on the region's device FQDN (api-sse.cisco.com, api.eu.sse.itd.cisco.com, ...). Tokens are bound
to the region that generated them, single use, and expire on the simulated clock.
"""

from __future__ import annotations

import hmac
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .http import error, invalid
from .model import DEVICE_TYPES, Device, RegionSSE, RegistrationError, RegistrationToken

if TYPE_CHECKING:
    from .cloud import SSECloud

# Device fields the register body carries, and whether each is required.
DEVICE_FIELDS: dict[str, bool] = {
    "name": True, "type": True, "version": True, "serial": False, "ip": False, "connector_version": False,
    "description": False, "api_url": False, "api_token": False,
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class DeviceApi:
    def __init__(self, cloud: SSECloud, region: str) -> None:
        self.cloud = cloud
        self.region = region

    @property
    def state(self) -> RegionSSE:
        # Looked up per request: reset() replaces the region state.
        return self.cloud.region_state(self.region)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/connector/v1/register", self.register),
            web.post("/connector/v1/deregister", self.deregister),
            web.post("/connector/v1/reregister", self.reregister),
        ]

    # ---- handlers -------------------------------------------------------------------------------
    async def register(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        token = self._token(body, required=True)
        fields = self._device_fields(body)
        redeemed = self._redeem(token)
        device = self.state.add_device(fields, self.cloud.clock.now())
        redeemed.used_by = device.id
        self.cloud.log_event(self.region, "registered", device)
        return web.json_response({"device_id": device.id, "status": device.status}, status=201)

    async def deregister(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        device_id = body.get("device_id")
        if not isinstance(device_id, str) or not device_id:
            raise invalid("device_id", "device_id is required")
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        credential = credential.strip()
        self.cloud.redactor.add(credential)
        device = self.state.devices.get(device_id)
        if device is None:
            raise error(404, "unknown_device", f"No device {device_id} is registered in this region.")
        if scheme.lower() != "bearer" or not device.api_token or not hmac.compare_digest(
                credential.encode(), device.api_token.encode()):
            raise error(401, "invalid_credentials", "The device credentials are not valid.")
        del self.state.devices[device_id]
        self.cloud.log_event(self.region, "deregistered", device)
        return web.json_response({"device_id": device_id, "status": "Deregistered"})

    async def reregister(self, request: web.Request) -> web.Response:
        """REG-9: with a token, register anew; without, re-associate through the smart account."""
        body = await self._body(request)
        old_id = body.get("device_id") if isinstance(body.get("device_id"), str) else None
        token = self._token(body, required=False)
        now = self.cloud.clock.now()
        if token:
            fields = self._device_fields(body)
            redeemed = self._redeem(token)
            if old_id:
                self.state.devices.pop(old_id, None)
            device = self.state.add_device(fields, now)
            redeemed.used_by = device.id
        else:
            account = body.get("smart_account")
            if not isinstance(account, str) or not account.strip():
                raise invalid("smart_account", "smart_account is required when no token is given")
            device = self._reassociate(body, old_id, account.strip())
        self.cloud.log_event(self.region, "reregistered", device)
        return web.json_response({"device_id": device.id, "status": device.status})

    # ---- helpers --------------------------------------------------------------------------------
    def _reassociate(self, body: dict[str, Any], old_id: str | None, account: str) -> Device:
        existing = self.state.devices.get(old_id) if old_id else None
        has_device = isinstance(body.get("device"), dict)
        if existing is not None:
            if has_device:
                for key, value in self._device_fields(body).items():
                    setattr(existing, key, value)
            existing.smart_account = account
            existing.status = "Registered"
            return existing
        if not has_device:
            raise invalid("device", "device is required to reregister a device this region does not know")
        # Keep the appliance's device ID where it is a well-formed UUID: it is the same device.
        keep = old_id if old_id and _UUID.match(old_id) else None
        device = self.state.add_device(self._device_fields(body), self.cloud.clock.now(), device_id=keep)
        device.smart_account = account
        return device

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise invalid("body", "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise invalid("body", "the body must be a JSON object")
        return body

    def _token(self, body: dict[str, Any], required: bool) -> str | None:
        token = body.get("token")
        if token is None or token == "":
            if required:
                raise invalid("token", "token is required")
            return None
        if not isinstance(token, str):
            raise invalid("token", "token must be a string")
        self.cloud.redactor.add(token)  # accepted secrets are masked in every log, valid or not
        return token.strip()

    def _redeem(self, token: str | None) -> RegistrationToken:
        try:
            return self.state.redeem(token or "", self.cloud.clock.now())
        except RegistrationError as exc:
            raise error(exc.status, exc.code, exc.message) from None

    def _device_fields(self, body: dict[str, Any]) -> dict[str, Any]:
        device = body.get("device")
        if not isinstance(device, dict):
            raise invalid("device", "device must be an object")
        fields: dict[str, Any] = {}
        for key, required in DEVICE_FIELDS.items():
            value = device.get(key)
            if value is None or value == "":
                if required:
                    raise invalid(f"device.{key}", f"device.{key} is required")
                continue
            if not isinstance(value, str):
                raise invalid(f"device.{key}", f"device.{key} must be a string")
            fields[key] = value
        if fields["type"] not in DEVICE_TYPES:
            raise invalid("device.type", f"device.type must be one of {', '.join(DEVICE_TYPES)}")
        self.cloud.redactor.add(fields.get("api_token"))
        return fields
