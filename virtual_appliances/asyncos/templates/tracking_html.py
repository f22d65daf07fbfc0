"""Monitor > Message Tracking: the search form, the results and a message's details (pure HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..tracking import TrackedMessage
from ..web_common import asyncos_time
from . import pages as tpl
from .pages import esc

MATCH_OPERATORS = (("match_begins", "Begins With"), ("match_is", "Is"), ("match_contains", "Contains"))
RECEIVED_CHOICES = (("last_day", "Last Day"), ("last_week", "Last Week"), ("custom", "Custom Range"))


def _match_row(label: str, field_name: str, op: str, value: str) -> tuple[str, str]:
    return (f'<label for="{field_name}">{esc(label)}</label><span class="help">?</span>',
            tpl.select(f"{field_name}_match", MATCH_OPERATORS, op) + " " + tpl.text_input(field_name, value))


def search_form(action: str, oldest: datetime, now: datetime, matches: Sequence[tuple[str, str, str, str]],
                received: str, custom: tuple[str, str, str, str]) -> str:
    """``matches``: (label, field, operator, value) rows; ``custom``: date/time from and to, as shown."""
    available = (f'<p>Available Time Range: {esc(asyncos_time(oldest, False, zone=False))} to '
                 f"{esc(asyncos_time(now, False))} &nbsp; Data in time range: 100.0% complete</p>")
    radios = " ".join(tpl.radio("received", v, t, received == v) for v, t in RECEIVED_CHOICES)
    date_from, time_from, date_to, time_to = custom
    custom_html = (f'Start Date: {tpl.text_input("date_from", date_from, 10)} '
                   f'Time: {tpl.text_input("time_from", time_from, 5)} and '
                   f'End Date: {tpl.text_input("date_to", date_to, 10)} '
                   f'Time: {tpl.text_input("time_to", time_to, 5)} (GMT +00:00)')
    rows = [_match_row(*m) for m in matches]
    rows.append((tpl.label("Message Received:"), radios + f"<div>{custom_html}</div>"))
    actions = (f'<div class="actions">{tpl.link_button("Clear", action, "clear")}<span class="right">'
               f'<button type="submit" id="search" name="action" value="Search" class="primary">Search</button>'
               "</span></div>")
    return (f'<form method="get" action="{action}" id="tracking_form">'
            f'{available}{tpl.box("Search", rows)}{actions}</form>')


def results(now: datetime, total: int, first: int, shown: Sequence[TrackedMessage], per_page: int,
            no_results: str, details_href: dict[int, str], pager_html: str) -> str:
    if total:
        # seed 004: "Displaying 1 — 1 of 1 items."
        counter = f'<p class="counter">Displaying {first} \u2014 {first + len(shown) - 1} of {total} items.</p>'
    else:
        counter = f'<p class="counter">{esc(no_results)}</p>'
    items = "".join(_result_item(first + i, m, details_href[m.mid]) for i, m in enumerate(shown))
    return (f'<p>Generated: {esc(asyncos_time(now, False))}</p><table class="box" id="results">'
            f"<caption>Results</caption><tr><td>"
            f'<div class="muted" style="text-align:right">Items per page {per_page}</div>'
            f'{counter}<div class="results">{items}</div>{counter if total else ""}{pager_html}</td></tr></table>')


def _result_item(index: int, m: TrackedMessage, details: str) -> str:
    fields = (("SENDER:", m.sender), ("RECIPIENT:", ", ".join(m.recipients)), ("SUBJECT:", m.subject),
              ("LAST STATE:", m.last_state))
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in fields)
    return (f'<div class="item" id="mid-{m.mid}"><div class="line"><span>{index}</span>'
            f"<span>{esc(asyncos_time(m.timestamp))}</span><span class=\"mid\">MID: {m.mid}</span>"
            f'<a href="{esc(details)}">Show Details</a></div><dl>{dl}</dl></div>')


def pager(page: int, pages: int, href: dict[int, str]) -> str:
    if pages <= 1:
        return ""
    links = [f'<a href="{esc(href[target])}">{label}</a>'
             for label, target in (("Previous", page - 1), ("Next", page + 1)) if 1 <= target <= pages]
    return f'<p>{" | ".join(links)} &nbsp; Page {page} of {pages}</p>'


def details(message: TrackedMessage, back_href: str) -> str:
    attachments = "<br>".join(f"{esc(a.name)} (SHA-256: {esc(a.sha256)})" for a in message.attachments)
    summary = tpl.box("Envelope and Header Summary", [
        (tpl.label("Received Time:"), esc(asyncos_time(message.timestamp))),
        (tpl.label("MID:"), str(message.mid)),
        (tpl.label("ICID:"), str(message.icid)),
        (tpl.label("Sender:"), esc(message.sender)),
        (tpl.label("Recipient:"), esc(", ".join(message.recipients))),
        (tpl.label("Subject:"), esc(message.subject)),
        (tpl.label("Message ID Header:"), esc(f"<{message.message_id}>")),
        (tpl.label("Sending Host IP:"), esc(message.sender_ip)),
        (tpl.label("Attachments:"), attachments or "None"),
        (tpl.label("Status:"), esc(message.state)),
    ])
    events = tpl.box("Processing Details", [
        (esc(asyncos_time(when)), esc(text)) for when, text in message.events
    ])
    return summary + events + tpl.link_button("Back to Message Tracking", back_href, "back")
