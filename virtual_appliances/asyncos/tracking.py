"""Message tracking: what Monitor > Message Tracking and the REST API report (VER-4).

Mail received by the appliance's SMTP listener is stored here with the identifiers the documents
name (MID, ICID, sender, recipients, subject, Message-ID header, attachments and their SHA-256), and
remediation performed from Threat Response is recorded as tracking events (REM-2).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from ..common.clock import SimClock

REMEDIATION_ACTIONS = {
    "delete": "Delete",
    "forward": "Forward",
    "forward_and_delete": "Forward and Delete",
}


@dataclass
class Attachment:
    name: str
    sha256: str


@dataclass
class TrackedMessage:
    mid: int
    icid: int
    dcid: int
    sender: str
    recipients: list[str]
    subject: str
    message_id: str  # the Message-ID header, without angle brackets
    sender_ip: str
    timestamp: datetime
    attachments: list[Attachment] = field(default_factory=list)
    state: str = "Delivered"
    events: list[tuple[datetime, str]] = field(default_factory=list)
    remediations: list[dict] = field(default_factory=list)

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2]

    @property
    def last_state(self) -> str:
        """The LAST STATE line of the GUI result list."""
        return self.events[-1][1] if self.events else self.state


class MessageTracking:
    def __init__(self, clock: SimClock, hostname: str) -> None:
        self.clock = clock
        self.hostname = hostname
        self._messages: dict[int, TrackedMessage] = {}
        self._mids = itertools.count(1)
        self._icids = itertools.count(1)
        self._dcids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._messages)

    def clear(self) -> None:
        self._messages.clear()

    def record(self, *, sender: str, recipients: list[str], subject: str, message_id: str,
               sender_ip: str, attachments: list[Attachment]) -> TrackedMessage:
        now = self.clock.now()
        message = TrackedMessage(
            mid=next(self._mids), icid=next(self._icids), dcid=next(self._dcids),
            sender=sender, recipients=list(recipients), subject=subject,
            message_id=message_id.strip().strip("<>"), sender_ip=sender_ip, timestamp=now,
            attachments=list(attachments),
        )
        message.events.append((now, f"Message {message.mid} received from {sender_ip}"))
        for rcpt in recipients:
            message.events.append((now, f"Message {message.mid} to {rcpt} received remote SMTP response 'ok'"))
        self._messages[message.mid] = message
        return message

    def get(self, mid: int) -> TrackedMessage | None:
        return self._messages.get(mid)

    def all(self) -> list[TrackedMessage]:
        return sorted(self._messages.values(), key=lambda m: m.mid)

    def search(self, *, start: datetime | None = None, end: datetime | None = None,
               subject: str | None = None, subject_op: str = "begins_with",
               sender: str | None = None, sender_op: str = "begins_with",
               recipient: str | None = None, recipient_op: str = "begins_with",
               message_id: str | None = None, mid: int | None = None, sha256: str | None = None,
               file_name: str | None = None, sender_ip: str | None = None,
               domain: str | None = None) -> list[TrackedMessage]:
        found = []
        for m in self.all():
            if (start and m.timestamp < start) or (end and m.timestamp > end):
                continue
            if subject is not None and not match_value(m.subject, subject, subject_op):
                continue
            if sender is not None and not match_value(m.sender, sender, sender_op):
                continue
            if recipient is not None and not any(match_value(r, recipient, recipient_op) for r in m.recipients):
                continue
            if message_id is not None and m.message_id != message_id.strip().strip("<>"):
                continue
            if mid is not None and m.mid != mid:
                continue
            if sha256 is not None and not any(a.sha256.lower() == sha256.lower() for a in m.attachments):
                continue
            if file_name is not None and not any(a.name == file_name for a in m.attachments):
                continue
            if sender_ip is not None and m.sender_ip != sender_ip:
                continue
            if domain is not None and m.sender_domain.lower() != domain.lower():
                continue
            found.append(m)
        return found

    def remediate(self, mids: list[int], action: str, forward_address: str | None) -> list[TrackedMessage]:
        """Perform Delete / Forward / Forward and Delete (REM-2) and record it in tracking."""
        if action not in REMEDIATION_ACTIONS:
            raise ValueError(f"unknown remediation action {action!r}")
        if action != "delete" and not forward_address:
            raise ValueError("a forward address is required for forward actions")
        done = []
        now = self.clock.now()
        for mid in mids:
            message = self._messages.get(mid)
            if message is None:
                continue
            label = REMEDIATION_ACTIONS[action]
            entry = {"action": action, "label": label, "forward_address": forward_address,
                     "time": now.isoformat()}
            message.remediations.append(entry)
            if action in ("forward", "forward_and_delete"):
                message.events.append((now, f"Message {mid} remediated: forwarded to {forward_address}"))
            if action in ("delete", "forward_and_delete"):
                message.events.append((now, f"Message {mid} remediated: deleted from the mailbox"))
                message.state = "Remediated"
            done.append(message)
        return done


def match_value(value: str, wanted: str, op: str) -> bool:
    value_l, wanted_l = value.lower(), wanted.lower()
    if op in ("begins_with", "match_begins"):
        return value_l.startswith(wanted_l)
    if op in ("contains", "match_contains"):
        return wanted_l in value_l
    if op in ("is", "match_is"):
        return value_l == wanted_l
    raise ValueError(f"unknown match operator {op!r}")
