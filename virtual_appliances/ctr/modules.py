"""Integration module types and instances (iroh-int): Email Security Appliance, SMA Email, SMA Web (beta).

A module instance points at a device registered in the region's SSE ("Registered Device", VER-3). The
choice lists only devices of a tenant with Threat Response enabled (TS-1), of the module's device type.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..sse import Device

ORG_NAME = "ctrlab"
DEFAULT_TIMEFRAME_DAYS = 30  # VER-3: "Request Timeframe (days)", default 30
MAX_TIMEFRAME_DAYS = 365
REMEDIATION_OBSERVABLES = ("cisco_mid", "email_messageid")  # REM-2
EMAIL_OBSERVE_TYPES = ("ip", "domain", "email", "email_subject", "cisco_mid", "email_messageid", "sha256",
                       "file_name")

# Setting keys of the configuration_spec.
DEVICE_KEY = "registered_device"
TIMEFRAME_KEY = "request_timeframe"
FORWARD_KEY = "remediation_forward_address"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NS = uuid.UUID("6f1b3c2e-8c1e-4c55-9a57-1c7a0e0d2b10")  # stable module type IDs across regions and runs


@dataclass(frozen=True)
class ModuleKind:
    key: str
    title: str
    short_description: str
    device_type: str  # which SSE devices it can use
    api_prefix: str  # the appliance's REST API root
    observe: bool  # answers observe/observables from message tracking
    respond: bool  # offers remediation actions (REM-2)
    beta: bool = False
    requires: str | None = None  # a module kind that must be configured first (VER-8)
    tips: str = ""

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_NS, self.key))

    @property
    def default_name(self) -> str:
        return f"{ORG_NAME} {self.title}"


ESA = ModuleKind(
    key="esa", title="Email Security Appliance", device_type="ESA", api_prefix="/esa/api/v2.0",
    observe=True, respond=True,
    short_description=("The Cisco Email Security Appliance (ESA) provides advanced threat protection capabilities "
                       "to detect, block, and remediate threats faster, prevent data loss, and secure important "
                       "information in transit with end-to-end encryption."),
    tips="Prerequisite: ESA running minimum AsyncOS 13.0.0-314 (LD) release.",
)
SMA_EMAIL = ModuleKind(
    key="sma-email", title="SMA Email", device_type="SMA", api_prefix="/sma/api/v2.0", observe=True, respond=True,
    short_description="Cisco Content Security Management Appliance - Email: centralised email reporting and "
                      "message tracking of the Email Security appliances it manages.",
    tips="Prerequisite: SMA running AsyncOS 12.5 or later.",
)
SMA_WEB = ModuleKind(
    key="sma-web", title="SMA Web", device_type="SMA", api_prefix="/sma/api/v2.0", observe=False, respond=False,
    beta=True, requires="sma-email",
    short_description="Cisco Content Security Management Appliance - Web. This feature is still in BETA.",
    tips="Configure the SMA Email module first.",
)
KINDS: dict[str, ModuleKind] = {k.id: k for k in (ESA, SMA_EMAIL, SMA_WEB)}


def device_label(device: Device) -> str:
    """The choice as the Add New Module form shows it: name, type, ID and IP address (VER-3)."""
    return f"{device.name} (Type {device.type}, ID {device.id}, IP Address {device.ip})"


def module_type_json(kind: ModuleKind, choices: list[Device], created_at: str) -> dict[str, Any]:
    """A ModuleType of the iroh-int spec; the device field's options are the devices to choose from."""
    spec: list[dict[str, Any]] = [
        {"key": DEVICE_KEY, "type": "device", "label": "Registered Device", "required": True,
         "tooltip": "A device registered in Security Services Exchange",
         "options": [{"value": d.id, "label": device_label(d)} for d in choices]},
        {"key": TIMEFRAME_KEY, "type": "integer", "label": "Request Timeframe (days)", "required": False,
         "default_value": DEFAULT_TIMEFRAME_DAYS,
         "tooltip": "The timeframe (in days) for querying the API endpoint"},
    ]
    if kind.respond:
        spec.append({"key": FORWARD_KEY, "type": "string", "label": "Remediation Forward Address",
                     "required": False, "tooltip": "Where Forward and Forward and Delete send the message"})
    capabilities = [{"id": "health", "description": "Check the health of the module"}]
    if kind.observe:
        capabilities.append({"id": "observe", "description": "Sightings from message tracking"})
    if kind.respond:
        capabilities.append({"id": "respond", "description": "Delete, Forward, Forward and Delete"})
    body: dict[str, Any] = {
        "id": kind.id, "title": kind.title, "default_name": kind.default_name,
        "short_description": kind.short_description, "description": kind.short_description, "tips": kind.tips,
        "configuration_spec": spec, "capabilities": capabilities,
        "product_categories": [{"id": "email-security", "description": "Email Security"}],
        "properties": {"device-type": kind.device_type, "api-prefix": kind.api_prefix,
                       "supported-observables": list(EMAIL_OBSERVE_TYPES) if kind.observe else []},
        "flags": ["beta"] if kind.beta else [],
        "org_id": "cisco", "user_id": "cisco", "client_id": "iroh-int", "record": f"arn:cisco:modules:{kind.key}",
        "enabled": True, "visibility": "global", "created_at": created_at,
    }
    return body


@dataclass
class ModuleInstance:
    id: str
    name: str
    kind: ModuleKind
    org_id: str
    user_id: str
    client_id: str
    visibility: str
    enabled: bool
    settings: dict[str, Any]
    created_at: str
    updated_at: str
    external_references: list[dict[str, Any]] = field(default_factory=list)

    @property
    def device_id(self) -> str:
        return str(self.settings.get(DEVICE_KEY, ""))

    @property
    def timeframe_days(self) -> int:
        return int(self.settings.get(TIMEFRAME_KEY, DEFAULT_TIMEFRAME_DAYS))

    @property
    def forward_address(self) -> str | None:
        value = self.settings.get(FORWARD_KEY)
        return value if isinstance(value, str) and value else None

    def json(self) -> dict[str, Any]:
        body = {
            "id": self.id, "name": self.name, "module_type_id": self.kind.id, "org_id": self.org_id,
            "user_id": self.user_id, "client_id": self.client_id, "visibility": self.visibility,
            "enabled": self.enabled, "settings": dict(self.settings), "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if self.external_references:
            body["external_references"] = list(self.external_references)
        return body


def settings_problem(kind: ModuleKind, settings: Any, choices: list[Device]) -> tuple[dict[str, Any] | None, str]:
    """Normalised settings, or (None, a message naming the offending field)."""
    if not isinstance(settings, dict):
        return None, "settings must be an object"
    unknown = sorted(set(settings) - {DEVICE_KEY, TIMEFRAME_KEY, FORWARD_KEY})
    if unknown:
        return None, f"settings.{unknown[0]} is not a setting of the {kind.title} module"
    device_id = settings.get(DEVICE_KEY)
    if not isinstance(device_id, str) or not device_id:
        return None, f"settings.{DEVICE_KEY} is required: choose a registered device"
    if device_id not in {d.id for d in choices}:
        return None, (f"settings.{DEVICE_KEY}: {device_id} is not a {kind.device_type} device registered in "
                      "Security Services Exchange with Cisco Threat Response enabled")
    clean: dict[str, Any] = {DEVICE_KEY: device_id}
    raw_days = settings.get(TIMEFRAME_KEY, DEFAULT_TIMEFRAME_DAYS)
    try:
        if isinstance(raw_days, bool):
            raise ValueError
        days = int(raw_days)
    except (TypeError, ValueError):
        return None, f"settings.{TIMEFRAME_KEY} must be a whole number of days"
    if not 1 <= days <= MAX_TIMEFRAME_DAYS:
        return None, f"settings.{TIMEFRAME_KEY} must be from 1 to {MAX_TIMEFRAME_DAYS} days"
    clean[TIMEFRAME_KEY] = days
    forward = settings.get(FORWARD_KEY)
    if forward not in (None, ""):
        if not kind.respond:
            return None, f"settings.{FORWARD_KEY} is not a setting of the {kind.title} module"
        if not isinstance(forward, str) or not _EMAIL.match(forward):
            return None, f"settings.{FORWARD_KEY} must be an email address"
        clean[FORWARD_KEY] = forward
    return clean, ""
