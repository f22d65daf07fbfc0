"""The Uncommitted Changes page behind the header's Commit Changes button (ENA-5, reference 1.3)."""

from __future__ import annotations

from aiohttp import web

from .. import messages as msg
from ..model import ApplianceError
from ..templates import commit_html
from .context import GuiContext, csrf, flash, gui, redirect, safe_referrer
from .paths import CLOUD_PATH, COMMIT_PATH


def _page(ctx: GuiContext, request: web.Request, referrer: str, status: int = 200, comment: str = "") -> web.Response:
    pending = ctx.appliance.has_pending
    notice = msg.UNCOMMITTED_NOTICE if pending else msg.NOTHING_TO_COMMIT
    form = commit_html.commit_form(COMMIT_PATH, csrf(request), notice, pending, referrer, comment)
    return ctx.render(request, "Uncommitted Changes", form, status)


async def commit_page(request: web.Request) -> web.StreamResponse:
    return _page(gui(request), request, safe_referrer(request.query.get("referrer"), CLOUD_PATH))


async def commit_submit(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    form = await request.post()
    referrer = safe_referrer(str(form.get("referrer", "")), CLOUD_PATH)
    comment = str(form.get("comment", ""))
    if form.get("action") == "abandon":
        ctx.appliance.clear()
        flash(request, "success", msg.CHANGES_ABANDONED)
        return redirect(referrer)
    try:
        ctx.appliance.commit(comment)
    except ApplianceError as exc:
        flash(request, "error", str(exc))
        return _page(ctx, request, referrer, 409, comment)
    flash(request, "success", msg.COMMITTED)
    return redirect(referrer)
