"""The appliance's public SMTP listener (aiosmtpd on the lab's event loop).

Every message accepted is parsed with the stdlib ``email`` package and recorded in message tracking
(VER-4) with what Threat Response later asks about: envelope sender and recipients, Subject, the
Message-ID header (added when the client sent none, as an MTA does), the peer address and every
attachment's name and SHA-256 (VER-6 ``sha256:`` / ``file_name:`` observables).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import hashlib
import logging
import uuid
from dataclasses import dataclass
from email.message import Message

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from .model import Appliance
from .tracking import Attachment

log = logging.getLogger("virtual_appliances.smtp")

STOP_TIMEOUT_S = 5.0
SESSION_TIMEOUT_S = 300.0  # idle client timeout, aiosmtpd's default


def accepted_reply(mid: int) -> str:
    """The DATA reply; the MID is in it so a sender can find the message in tracking."""
    return f"250 ok:  Message {mid} accepted"  # AsyncOS wording (two spaces after "ok:"); inferred


@dataclass
class ParsedMail:
    subject: str
    message_id: str
    attachments: list[Attachment]


def parse_mail(raw: bytes, hostname: str) -> ParsedMail:
    try:
        message: Message = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(message.get("Subject", "") or "")
    except (ValueError, TypeError, IndexError):
        # Why the fallback: the modern policy raises on some malformed headers; compat32 never does.
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        subject = str(message.get("Subject", "") or "")
    message_id = str(message.get("Message-ID", "") or "").strip()
    if not message_id:
        message_id = f"<{uuid.uuid4().hex}@{hostname}>"
    return ParsedMail(subject=" ".join(subject.split()), message_id=message_id, attachments=attachments_of(message))


def attachments_of(message: Message) -> list[Attachment]:
    """Every leaf part with a file name, hashed over its decoded (transfer-encoding removed) bytes."""
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        found.append(Attachment(name=str(name), sha256=hashlib.sha256(data).hexdigest()))
    return found


class TrackingHandler:
    """aiosmtpd handler: accept every recipient, record the message, answer with its MID."""

    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.original_content or (envelope.content if isinstance(envelope.content, bytes) else b"")
        parsed = parse_mail(raw, self.appliance.spec.hostname)
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        tracked = self.appliance.tracking.record(
            sender=envelope.mail_from or "", recipients=list(envelope.rcpt_tos), subject=parsed.subject,
            message_id=parsed.message_id, sender_ip=peer, attachments=parsed.attachments,
        )
        log.debug("%s: MID %s from %s", self.appliance.spec.name, tracked.mid, peer)
        return accepted_reply(tracked.mid)


class SmtpListener:
    """A running listener: ``port`` and ``await stop()``."""

    def __init__(self, server: asyncio.Server) -> None:
        self._server = server
        self.host, self.port = server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        self._server.close()
        # Why bounded: a client that keeps its connection open must not block the lab's shutdown.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), STOP_TIMEOUT_S)


async def start_smtp(appliance: Appliance, host: str, port: int) -> SmtpListener:
    loop = asyncio.get_running_loop()
    handler = TrackingHandler(appliance)

    def factory() -> SMTP:
        # "220 <hostname> ESMTP" like an AsyncOS listener's default banner.
        return SMTP(handler, hostname=appliance.spec.hostname, ident="ESMTP", timeout=SESSION_TIMEOUT_S,
                    decode_data=False, enable_SMTPUTF8=True, loop=loop)

    server = await loop.create_server(factory, host=host, port=port)
    return SmtpListener(server)
