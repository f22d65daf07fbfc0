"""The GUI's route table (moto-style): path -> handler module per page -> the model.

The lab runner wraps :func:`gui_app` in a TLS listener and passes its request-logging middleware.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from urllib.parse import urlencode

from aiohttp import web

from ...common.http import date_from_clock
from .. import messages as msg
from ..model import Appliance
from ..templates import pages as tpl
from ..web_common import Handler, fault_middleware, status_reason
from . import account, cloud_services, commit, login, message_tracking, sections
from .context import GUI, GuiContext, flash, gui, html, redirect
from .paths import (
    ACCOUNT_PATH,
    CLOUD_PATH,
    COMMIT_PATH,
    DEREGISTER_PATH,
    DETAILS_PATH,
    EDIT_PATH,
    LOGIN_PATH,
    LOGOUT_PATH,
    PUBLIC_PATHS,
    REGISTER_PATH,
    REREGISTER_PATH,
    TRACKING_PATH,
)
from .sessions import SESSION, SESSION_COOKIE

ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/", login.root),
    ("GET", LOGIN_PATH, login.login_form),
    ("POST", LOGIN_PATH, login.login),
    ("GET", LOGOUT_PATH, login.logout),
    ("GET", CLOUD_PATH, cloud_services.settings),
    ("GET", EDIT_PATH, cloud_services.edit_form),
    ("POST", EDIT_PATH, cloud_services.edit_submit),
    ("POST", REGISTER_PATH, cloud_services.register),
    ("POST", DEREGISTER_PATH, cloud_services.deregister),
    ("GET", REREGISTER_PATH, cloud_services.reregister_form),
    ("POST", REREGISTER_PATH, cloud_services.reregister_submit),
    ("GET", COMMIT_PATH, commit.commit_page),
    ("POST", COMMIT_PATH, commit.commit_submit),
    ("GET", ACCOUNT_PATH, account.account_settings),
    ("POST", ACCOUNT_PATH, account.account_submit),
    ("GET", TRACKING_PATH, message_tracking.tracking),
    ("GET", DETAILS_PATH, message_tracking.tracking_details),
)


def gui_app(appliance: Appliance, middlewares: Sequence = ()) -> web.Application:
    ctx = GuiContext(appliance)

    def fault_page(status: int) -> web.StreamResponse:
        if status < 200 or status in (204, 304):
            return web.Response(status=status)
        return html(tpl.error_page(status, status_reason(status)), status)

    app = web.Application(middlewares=[*middlewares, fault_middleware(appliance, fault_page), session_middleware])
    app[GUI] = ctx
    # The tab landing pages come first, as they did: the tabs follow the kind.
    app.add_routes([web.get(tab.href, sections.section) for tab in ctx.tabs])
    app.add_routes([web.route(method, path, handler) for method, path, handler in ROUTES])
    date_from_clock(app, appliance.clock)
    return app


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the caller's session; anonymous callers get the login page, forged POSTs a 403."""
    ctx: GuiContext = gui(request)
    session = ctx.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        request[SESSION] = session
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    if session is None:
        if request.method == "GET":
            return redirect(f"{LOGIN_PATH}?" + urlencode({"referrer": request.path_qs}), 302)
        return redirect(LOGIN_PATH, 303)
    if request.method == "POST":
        form = await request.post()
        if not hmac.compare_digest(str(form.get(tpl.CSRF_FIELD, "")), session.csrf):
            flash(request, "error", msg.CSRF_INVALID)
            return ctx.render(request, "Forbidden", "", 403)
    return await handler(request)
