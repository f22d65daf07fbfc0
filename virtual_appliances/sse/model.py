"""One region of Security Services Exchange: its tenant, registration tokens and device registry.

Everything here is plain state compared against the lab clock lazily: a token "expires" because
``now()`` passed its expiry, so advancing the clock expires it without any background work.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Token expiration choices of "Add Devices and Generate Tokens" (REG-1): 1, 2, 4, 6, 8, 12 hours, 1-5 days.
EXPIRATION_HOURS: dict[str, int] = {
    "1h": 1, "2h": 2, "4h": 4, "6h": 6, "8h": 8, "12h": 12,
    "1d": 24, "2d": 48, "3d": 72, "4d": 96, "5d": 120,
}
DEFAULT_EXPIRATION = "1h"
MAX_DEVICES_PER_BATCH = 100
DEVICE_TYPES = ("ESA", "SMA", "GATEWAY")
REGISTERED = "Registered"
CREATED_FORMAT = "%Y-%m-%d %H:%M:%S UTC"  # VER-1: "Created: 2020-05-11 20:41:05 UTC"

THREAT_RESPONSE_ID = "threat-response"
THREAT_RESPONSE_NAME = "Cisco Threat Response"
# The Cloud Services tab text of seeds 002/004 (PRE-2).
THREAT_RESPONSE_DESCRIPTION = (
    "Cisco Threat Response enablement allows you to utilize supported devices in the course of a "
    "cybersecurity investigation. It also allows this platform to send high fidelity security events and "
    "observations to Threat Response."
)


def tokens_message(hours: int) -> str:
    """What the portal says above the generated tokens (seed 004 screenshot)."""
    return f"The following tokens have been generated and will be valid for {hours} hour(s):"


class RegistrationError(Exception):
    """A refused connector request; ``code`` is the protocol's ``error`` value (docs/simulators.md)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Tenant:
    region: str
    name: str
    threat_response_enabled: bool = False  # PRE-2: OFF until enabled on the Cloud Services tab

    def cloud_services(self) -> list[dict[str, Any]]:
        return [{"id": THREAT_RESPONSE_ID, "name": THREAT_RESPONSE_NAME,
                 "description": THREAT_RESPONSE_DESCRIPTION, "enabled": self.threat_response_enabled}]


@dataclass
class RegistrationToken:
    value: str = field(repr=False)
    batch_id: str
    created: datetime
    expires: datetime
    used_by: str | None = None  # the device registered with it; tokens are single use


@dataclass
class TokenBatch:
    id: str
    tokens: list[str] = field(repr=False)
    expiration: str
    created: datetime
    expires: datetime

    @property
    def hours(self) -> int:
        return EXPIRATION_HOURS[self.expiration]


@dataclass
class Device:
    """A registered appliance as SSE lists it (VER-1), plus how the cloud calls it back."""

    id: str
    region: str
    name: str
    type: str
    version: str
    created: datetime
    serial: str = ""
    ip: str = ""
    connector_version: str = ""
    description: str = ""
    api_url: str | None = None
    api_token: str | None = field(default=None, repr=False)  # secret: never listed, never logged
    smart_account: str | None = None
    status: str = REGISTERED

    def public(self) -> dict[str, Any]:
        """The device list entry: VER-1 fields, no secrets."""
        return {
            "id": self.id, "name": self.name, "type": self.type, "version": self.version, "status": self.status,
            "description": self.description, "ip": self.ip, "connector_version": self.connector_version,
            "serial": self.serial, "created": self.created.strftime(CREATED_FORMAT), "region": self.region,
        }


@dataclass
class Faults:
    """Failures the control plane injects into this region's SSE."""

    device_api_status: int | None = None  # the connector API answers with this status
    admin_api_status: int | None = None  # the admin API answers with this status

    def clear(self) -> None:
        self.device_api_status = None
        self.admin_api_status = None


class RegionSSE:
    """The state of one region's SSE: tenant, token batches, devices."""

    def __init__(self, region: str, tenant_name: str) -> None:
        self.region = region
        self.tenant = Tenant(region, tenant_name)
        self.batches: dict[str, TokenBatch] = {}
        self.tokens: dict[str, RegistrationToken] = {}
        self.devices: dict[str, Device] = {}
        self.faults = Faults()

    # ---- tokens ---------------------------------------------------------------------------------
    def generate_tokens(self, count: int, expiration: str, now: datetime) -> TokenBatch:
        hours = EXPIRATION_HOURS[expiration]
        batch = TokenBatch(id=str(uuid.uuid4()), tokens=[], expiration=expiration, created=now,
                           expires=now + timedelta(hours=hours))
        for _ in range(count):
            value = secrets.token_hex(16)  # 32 lowercase hex digits, like the portal's tokens
            batch.tokens.append(value)
            self.tokens[value] = RegistrationToken(value, batch.id, now, batch.expires)
        self.batches[batch.id] = batch
        return batch

    def redeem(self, value: str, now: datetime) -> RegistrationToken:
        """The token if it can register a device now; otherwise the protocol's error."""
        token = self.tokens.get(value)
        if token is None:
            # Also what a token of another region's SSE gets: each region knows only its own (REG-8).
            raise RegistrationError(401, "invalid_token", "The registration token is not valid.")
        if token.used_by is not None:
            raise RegistrationError(403, "token_used", "The registration token has already been used.")
        if now >= token.expires:
            raise RegistrationError(401, "expired_token", "The registration token has expired.")
        return token

    def expire_tokens(self, now: datetime) -> int:
        """Make every outstanding token of this region expired; returns how many were still valid."""
        count = 0
        for token in self.tokens.values():
            if token.used_by is None and token.expires > now:
                count += 1
            token.expires = min(token.expires, now)
        for batch in self.batches.values():
            batch.expires = min(batch.expires, now)
        return count

    # ---- devices --------------------------------------------------------------------------------
    def add_device(self, fields: dict[str, Any], now: datetime, device_id: str | None = None) -> Device:
        device_id = device_id if device_id and device_id not in self.devices else str(uuid.uuid4())
        device = Device(id=device_id, region=self.region, created=now, **fields)
        self.devices[device.id] = device
        return device

    def sorted_devices(self) -> list[Device]:
        return sorted(self.devices.values(), key=lambda d: (d.created, d.name, d.id))

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """Debug view for the control plane: no token values, no device secrets."""
        return {
            "region": self.region,
            "tenant": {"name": self.tenant.name, "threat_response_enabled": self.tenant.threat_response_enabled},
            "token_batches": [
                {"id": b.id, "count": len(b.tokens), "expiration": b.expiration, "expires": b.expires.isoformat(),
                 "used": sum(1 for t in b.tokens if self.tokens[t].used_by), "expired": now >= b.expires}
                for b in self.batches.values()
            ],
            "devices": [d.public() | {"api_url": d.api_url, "smart_account": d.smart_account}
                        for d in self.sorted_devices()],
            "faults": {"device_api_status": self.faults.device_api_status,
                       "admin_api_status": self.faults.admin_api_status},
        }
