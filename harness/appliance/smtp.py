"""Send a test mail through an appliance's listener (VER-4), with ``smtplib`` and a timeout.

The message gets a Message-ID of our own making unless one is given, so the scenario can look for it
later (message tracking, ``email_messageid:`` in Threat Response). Only the connection is retried
(a bounded number of times); once the transaction has started nothing is re-sent, so a mail is never
delivered twice.
"""

from __future__ import annotations

import mimetypes
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..errors import AuthenticationFailed, LabUnreachable, MailRefused
from ..transcript import Transcript

Attachment = tuple[str, bytes] | tuple[str, bytes, str]  # (file name, content[, MIME type])
_MID = re.compile(r"\bMessage (\d+) accepted", re.IGNORECASE)


@dataclass(frozen=True)
class SentMail:
    message_id: str  # the header value, "<...@...>"
    reply: str  # the DATA reply, e.g. "ok:  Message 12 accepted"
    mid: int | None  # the appliance's MID when its reply names one

    @property
    def message_id_bare(self) -> str:
        """Without the angle brackets: how Threat Response's ``email_messageid`` observable writes it."""
        return self.message_id.strip().strip("<>")


def build_message(sender: str, recipients: Sequence[str], subject: str, body: str = "", *,
                  message_id: str | None = None, attachments: Sequence[Attachment] = (),
                  headers: Mapping[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = sender.rpartition("@")[2] or "ctrlab.test"
    msg["Message-ID"] = _bracketed(message_id) if message_id else make_msgid("ctrlab", domain=domain)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body or f"ctrlab test message: {subject}\n")
    for item in attachments:
        name, content = item[0], item[1]
        ctype = item[2] if len(item) > 2 else (mimetypes.guess_type(name)[0] or "application/octet-stream")
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=name)
    return msg


def _bracketed(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


class SmtpSender:
    def __init__(self, host: str, port: int = 25, *, name: str = "appliance", timeout: float = 30.0,
                 starttls: bool = False, tls_context: ssl.SSLContext | None = None, username: str | None = None,
                 password: str | None = None, helo: str | None = None, connect_attempts: int = 3,
                 transcript: Transcript | None = None) -> None:
        self.host, self.port = host, port
        self.what = f"{name} SMTP"
        self.endpoint = f"{host}:{port}"
        self.timeout = timeout
        self.starttls, self.tls_context = starttls, tls_context
        self.username, self._password = username, password
        self.helo = helo
        self.connect_attempts = max(1, connect_attempts)
        self.transcript = transcript if transcript is not None else Transcript(self.what)
        self.transcript.add_credentials(username, password)

    def send(self, sender: str, recipients: Sequence[str], subject: str, body: str = "", *,
             message_id: str | None = None, attachments: Sequence[Attachment] = (),
             headers: Mapping[str, str] | None = None) -> SentMail:
        msg = build_message(sender, recipients, subject, body, message_id=message_id, attachments=attachments,
                            headers=headers)
        started, t0 = datetime.now(UTC), time.monotonic()
        log: list[str] = []
        status = "error"
        try:
            with self._connect(log) as smtp:
                code, reply = smtp.mail(sender)
                log.append(f"MAIL FROM:<{sender}> -> {code} {_text(reply)}")
                if code != 250:
                    raise MailRefused(self.what, self.endpoint, code, _text(reply))
                accepted = 0
                for rcpt in recipients:
                    code, reply = smtp.rcpt(rcpt)
                    log.append(f"RCPT TO:<{rcpt}> -> {code} {_text(reply)}")
                    accepted += code in (250, 251)
                if not accepted:
                    raise MailRefused(self.what, self.endpoint, code, _text(reply))
                code, reply = smtp.data(msg.as_bytes())
                log.append(f"DATA ({len(msg.as_bytes())} bytes) -> {code} {_text(reply)}")
                if code != 250:
                    raise MailRefused(self.what, self.endpoint, code, _text(reply))
                status = "ok"
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthenticationFailed(self.what, self.endpoint, _text(exc.smtp_error)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            if isinstance(exc, MailRefused):
                raise
            raise LabUnreachable(self.what, self.endpoint, f"{type(exc).__name__}: {exc}") from exc
        finally:
            headers_text = "".join(f"{k}: {v}\n" for k, v in msg.items())
            self.transcript.record("smtp", self.what, self.endpoint, headers_text.rstrip("\n"), "\n".join(log),
                                   started, time.monotonic() - t0, status)
        mid = _MID.search(_text(reply))
        return SentMail(str(msg["Message-ID"]), _text(reply), int(mid.group(1)) if mid else None)

    def _connect(self, log: list[str]) -> smtplib.SMTP:
        """Connect (retrying only the connection), EHLO, optional STARTTLS and AUTH."""
        last: OSError | None = None
        for attempt in range(self.connect_attempts):
            smtp = smtplib.SMTP(timeout=self.timeout, local_hostname=self.helo)
            try:
                code, banner = smtp.connect(self.host, self.port)
                log.append(f"connect -> {code} {_text(banner)}")
                break
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                smtp.close()
                last = exc if isinstance(exc, OSError) else OSError(str(exc))
                log.append(f"connect -> {type(exc).__name__}: {exc}")
                if attempt + 1 < self.connect_attempts:
                    threading.Event().wait(min(0.2 * 2**attempt, 2.0))  # bounded back-off
        else:
            assert last is not None
            raise last
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self.tls_context or ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self._password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def send_mail(host: str, port: int, sender: str, recipients: Sequence[str], subject: str, body: str = "", *,
              message_id: str | None = None, attachments: Sequence[Attachment] = (), timeout: float = 30.0,
              transcript: Transcript | None = None) -> str:
    """One-shot helper: send and return the Message-ID header value."""
    sender_ = SmtpSender(host, port, timeout=timeout, transcript=transcript)
    return sender_.send(sender, recipients, subject, body, message_id=message_id, attachments=attachments).message_id


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
