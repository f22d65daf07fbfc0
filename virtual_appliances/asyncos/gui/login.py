"""Login and logout. A session exists only after a successful login (issue 15); the login form's
CSRFKey is a stateless signed key (``LoginKeys``), sent as a cookie and in the form."""

from __future__ import annotations

import hmac

from aiohttp import web

from .. import messages as msg
from ..templates import pages as tpl
from ..web_common import USERNAME
from .context import GuiContext, gui, html, redirect, safe_referrer
from .paths import LOGIN_PATH
from .sessions import LOGIN_KEY_COOKIE, SESSION, SESSION_COOKIE, set_cookie


def _login_page(request: web.Request, ctx: GuiContext, referrer: str, error: str | None, status: int = 200,
                username: str = "") -> web.Response:
    # A visitor keeps the key it holds: a browser loads more than one page before it logs in (its
    # /favicon.ico is sent to the login page too), and a new key each time would fail the form it shows.
    key = request.cookies.get(LOGIN_KEY_COOKIE, "")
    if not ctx.login_keys.valid(key):
        key = ctx.login_keys.issue()
    response = html(tpl.login_page(ctx.model, ctx.product, key, referrer, error, username), status)
    set_cookie(response, LOGIN_KEY_COOKIE, key)
    return response


async def root(request: web.Request) -> web.StreamResponse:
    return redirect(gui(request).home, 302)


async def login_form(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    referrer = safe_referrer(request.query.get("referrer"), ctx.home)
    if SESSION in request:
        return redirect(referrer, 302)
    return _login_page(request, ctx, referrer, None)


def _key_ok(request: web.Request, ctx: GuiContext, key: str) -> bool:
    """The form's key equals the cookie's, and the appliance signed it (or the caller's own session key)."""
    session = request.get(SESSION)
    if session is not None and hmac.compare_digest(key, session.csrf):
        return True
    cookie = request.cookies.get(LOGIN_KEY_COOKIE, "")
    return bool(key) and hmac.compare_digest(key, cookie) and ctx.login_keys.valid(key)


async def login(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    form = await request.post()
    referrer = safe_referrer(str(form.get("referrer", "")), ctx.home)
    username = str(form.get("username", ""))
    if not _key_ok(request, ctx, str(form.get(tpl.CSRF_FIELD, ""))):
        return _login_page(request, ctx, referrer, msg.CSRF_INVALID, status=403, username=username)
    password = str(form.get("password", ""))
    if not (username == USERNAME and hmac.compare_digest(password.encode(), ctx.appliance.password.encode())):
        return _login_page(request, ctx, referrer, msg.LOGIN_FAILED, username=username)
    old = request.get(SESSION)
    if old is not None:
        ctx.sessions.drop(old.sid)  # a fresh session id after login (no session fixation)
    response = redirect(referrer)
    set_cookie(response, SESSION_COOKIE, ctx.sessions.new(username).sid)
    response.del_cookie(LOGIN_KEY_COOKIE, path="/")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    gui(request).sessions.drop(request[SESSION].sid)
    response = redirect(LOGIN_PATH, 302)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
