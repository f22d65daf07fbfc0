"""Monitor > Message Tracking (VER-4): search, results by pages of 20, a message's details."""

from __future__ import annotations

from datetime import datetime
from math import ceil
from urllib.parse import urlencode

from aiohttp import web

from .. import messages as msg
from ..templates import tracking_html as page
from ..tracking import TrackedMessage
from .context import GuiContext, flash, gui
from .paths import DETAILS_PATH, TRACKING_PATH
from .tracking_query import TrackingQuery

ITEMS_PER_PAGE = 20
TITLE = "Message Tracking"


async def tracking(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    query = TrackingQuery.from_request(request.query)
    now = ctx.appliance.clock.now()
    content = _form(ctx, query, now)
    if query.searched:
        try:
            start, end = query.time_range(now)
        except ValueError as exc:
            flash(request, "error", str(exc))
            return ctx.render(request, TITLE, _form(ctx, query, now), 400)
        content += _results(query, _search(ctx, query, start, end), now)
    return ctx.render(request, TITLE, content)


def _search(ctx: GuiContext, query: TrackingQuery, start: datetime, end: datetime) -> list[TrackedMessage]:
    found = ctx.appliance.tracking.search(
        start=start, end=end,
        sender=query.sender or None, sender_op=query.sender_match,
        recipient=query.recipient or None, recipient_op=query.recipient_match,
        subject=query.subject or None, subject_op=query.subject_match,
    )
    return sorted(found, key=lambda m: (m.timestamp, m.mid), reverse=True)  # newest first


def _form(ctx: GuiContext, q: TrackingQuery, now: datetime) -> str:
    oldest = min((m.timestamp for m in ctx.appliance.tracking.all()), default=now)
    start, end = q.default_range(now)
    matches = [
        ("Envelope Sender:", "sender", q.sender_match, q.sender),
        ("Envelope Recipient:", "recipient", q.recipient_match, q.recipient),
        ("Subject:", "subject", q.subject_match, q.subject),
    ]
    custom = (q.date_from or f"{start:%m/%d/%Y}", q.time_from or f"{start:%H:%M}",
              q.date_to or f"{end:%m/%d/%Y}", q.time_to or f"{end:%H:%M}")
    return page.search_form(TRACKING_PATH, oldest, now, matches, q.received, custom)


def _results(q: TrackingQuery, found: list[TrackedMessage], now: datetime) -> str:
    total = len(found)
    pages = max(1, ceil(total / ITEMS_PER_PAGE))
    current = min(max(q.page, 1), pages)
    shown = found[(current - 1) * ITEMS_PER_PAGE: current * ITEMS_PER_PAGE]
    first = (current - 1) * ITEMS_PER_PAGE + 1
    details = {m.mid: f"{DETAILS_PATH}?{urlencode({'mid': m.mid})}" for m in shown}
    links = {n: f"{TRACKING_PATH}?{q.urlencode(page=n)}" for n in (current - 1, current + 1)}
    pager = page.pager(current, pages, links)
    return page.results(now, total, first, shown, ITEMS_PER_PAGE, msg.TRACKING_NO_RESULTS, details, pager)


async def tracking_details(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    try:
        message = ctx.appliance.tracking.get(int(request.query.get("mid", "")))
    except ValueError:
        message = None
    if message is None:
        flash(request, "error", msg.TRACKING_NO_RESULTS)
        return ctx.render(request, "Message Details", "", 404)
    return ctx.render(request, "Message Details", page.details(message, TRACKING_PATH))
