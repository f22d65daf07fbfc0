"""System Administration > Account Settings: the remediation profile (REM-1), staged until commit."""

from __future__ import annotations

from aiohttp import web

from .. import messages as msg
from ..templates import account_html
from .context import csrf, gui, redirect
from .paths import ACCOUNT_PATH


async def account_settings(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    a = ctx.appliance
    content = account_html.account_page(ACCOUNT_PATH, csrf(request), a.committed.remediation_profile,
                                        a.staged.remediation_profile, msg.REMEDIATION_PROFILE_HELP)
    return ctx.render(request, "Account Settings", content)


async def account_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    gui(request).appliance.set_remediation_profile(form.get("remediation_profile") == "on")  # staged (commit)
    return redirect(ACCOUNT_PATH)
