"""The Message Tracking search form, carried in the query string so a search is a URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from ..templates.tracking_html import MATCH_OPERATORS


@dataclass
class TrackingQuery:
    """The search form's fields (VER-4)."""

    sender: str = ""
    sender_match: str = "match_begins"
    recipient: str = ""
    recipient_match: str = "match_begins"
    subject: str = ""
    subject_match: str = "match_begins"
    received: str = "last_day"
    date_from: str = ""
    time_from: str = ""
    date_to: str = ""
    time_to: str = ""
    searched: bool = False
    page: int = 1

    @classmethod
    def from_request(cls, query: Mapping[str, str]) -> TrackingQuery:
        get = query.get
        ops = {v for v, _ in MATCH_OPERATORS}

        def op(name: str) -> str:
            value = get(name, "match_begins")
            return value if value in ops else "match_begins"

        received = get("received", "last_day")
        try:
            page = int(get("page", "1"))
        except ValueError:
            page = 1
        return cls(
            sender=get("sender", "").strip(), sender_match=op("sender_match"),
            recipient=get("recipient", "").strip(), recipient_match=op("recipient_match"),
            subject=get("subject", "").strip(), subject_match=op("subject_match"),
            received=received if received in ("last_day", "last_week", "custom") else "last_day",
            date_from=get("date_from", ""), time_from=get("time_from", ""),
            date_to=get("date_to", ""), time_to=get("time_to", ""),
            searched=get("action") == "Search", page=page,
        )

    def default_range(self, now: datetime) -> tuple[datetime, datetime]:
        days = 7 if self.received == "last_week" else 1
        return now - timedelta(days=days), now

    def time_range(self, now: datetime) -> tuple[datetime, datetime]:
        if self.received != "custom":
            return self.default_range(now)
        start = _form_time(self.date_from, self.time_from or "00:00", now)
        # Why +59 s: the form has minute resolution and the end minute is part of the range.
        end = _form_time(self.date_to, self.time_to or "23:59", now) + timedelta(seconds=59.999)
        return start, end

    def urlencode(self, **overrides: object) -> str:
        params = {
            "sender_match": self.sender_match, "sender": self.sender,
            "recipient_match": self.recipient_match, "recipient": self.recipient,
            "subject_match": self.subject_match, "subject": self.subject, "received": self.received,
            "date_from": self.date_from, "time_from": self.time_from, "date_to": self.date_to,
            "time_to": self.time_to, "action": "Search", "page": self.page,
        }
        params.update(overrides)
        return urlencode(params)


def _form_time(date: str, clock: str, now: datetime) -> datetime:
    try:
        parsed = datetime.strptime(f"{date.strip()} {clock.strip()}", "%m/%d/%Y %H:%M")
    except ValueError:
        raise ValueError("Enter dates as MM/DD/YYYY and times as HH:MM.") from None
    return parsed.replace(tzinfo=now.tzinfo)


