"""A tracked message as a CTIM sighting (VER-5): "Incoming message (Delivered)", confidence High, severity Low.

The Cisco-hosted email module's exact sighting is not published (ctr-api.md); this one follows the CTIM
Sighting schema of the iroh-enrich spec. Relations link the message (its Cisco MID) to the sender, the
recipients, the sender IP and domain, the subject, the Message-ID header and the attachments, which is
what the Investigate relations graph of seed 002 shows.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .observables import Observable, observable

SCHEMA_VERSION = "1.1.12"
_NS = uuid.UUID("0b9f7f43-3f0e-4a59-8a4e-6b0c2d0f6a11")
_ASYNCOS_TIME = re.compile(r"^(\d{1,2} \w{3} \d{4} \d{2}:\d{2}:\d{2})\s*\(GMT\s*(?:([+-])(\d{2}):(\d{2}))?\)$")


def iso(moment: datetime) -> str:
    """CTIM time: ``2020-05-14T13:23:57.000Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_asyncos_time(text: str) -> datetime | None:
    """``14 May 2020 13:23:57 (GMT +00:00)`` or ``07 Sep 2022 08:10:33 (GMT)``."""
    m = _ASYNCOS_TIME.match(text.strip()) if isinstance(text, str) else None
    if not m:
        return None
    try:
        moment = datetime.strptime(m.group(1), "%d %b %Y %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    if m.group(2):
        offset = timedelta(hours=int(m.group(3)), minutes=int(m.group(4)))
        moment = moment - offset if m.group(2) == "+" else moment + offset
    return moment


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _mapping(value: Any) -> dict[str, Any]:
    """AsyncOS keys some attributes by MID: ``{"8": "Delivered"}``."""
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return []


def message_sighting(attrs: dict[str, Any], queried: Observable, *, source: str, origin: str, device_id: str,
                     now: datetime) -> dict[str, Any]:
    mid = str(_first(attrs.get("mid")) or "")
    statuses = _mapping(attrs.get("messageStatus"))
    status = statuses.get(mid) or "Delivered"
    direction = "Outgoing" if str(attrs.get("direction", "incoming")).lower() == "outgoing" else "Incoming"
    title = f"{direction} message ({status})"
    when = parse_asyncos_time(attrs.get("timestamp", "")) or now
    observed = {"start_time": iso(when), "end_time": iso(when)}
    recipients = _strings(attrs.get("recipient"))
    sender = str(attrs.get("sender") or "")
    domain = attrs.get("senderDomain") or (sender.rpartition("@")[2] if "@" in sender else "")
    message_ids = _mapping(attrs.get("messageID"))
    message_id = str(message_ids.get(mid) or next(iter(message_ids.values()), "")).strip().strip("<>")
    attachments = [a for a in attrs.get("attachments") or [] if isinstance(a, dict)]

    relations: list[dict[str, Any]] = []

    def relate(source_obs: Observable | None, relation: str, related: Observable | None) -> None:
        if source_obs and related and source_obs["value"] and related["value"]:
            relations.append({"origin": origin, "relation": relation, "source": source_obs, "related": related})

    message = observable("cisco_mid", mid) if mid else None
    sender_obs = observable("email", sender) if sender else None
    relate(message, "Sent_By", sender_obs)
    for rcpt in recipients:
        relate(message, "Sent_To", observable("email", rcpt))
    relate(message, "Received_From", observable("ip", str(attrs.get("senderIp") or "")))
    relate(sender_obs, "Related_To", observable("domain", str(domain)))
    relate(message, "Related_To", observable("email_subject", str(attrs.get("subject") or "")))
    relate(message, "Related_To", observable("email_messageid", message_id))
    for attachment in attachments:
        name = observable("file_name", str(attachment.get("name") or ""))
        digest = observable("sha256", str(attachment.get("sha256") or ""))
        relate(message, "Contains", name)
        relate(message, "Contains", digest)
        relate(digest, "Related_To", name)

    sighting: dict[str, Any] = {
        "id": f"transient:sighting-{uuid.uuid5(_NS, '/'.join((device_id, mid, queried['type'], queried['value'])))}",
        "type": "sighting",
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "title": title,
        "description": title,
        "short_description": title,
        "confidence": "High",
        "severity": "Low",
        "count": 1,
        "internal": True,  # "My Environment": the customer's own appliance saw it
        "sensor": "process.email-service",
        "tlp": "amber",
        "observed_time": observed,
        "timestamp": iso(now),
        "observables": [dict(queried)],
        "targets": [{"type": "email", "observables": [observable("email", r) for r in recipients],
                     "observed_time": dict(observed)}],
        "relations": relations,
    }
    if mid:
        sighting["external_ids"] = [f"{device_id}:{mid}"]
    return sighting
