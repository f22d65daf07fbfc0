"""Network > Cloud Service Settings (ENA-1..5, ENA-8, REG-2..9).

The page always shows the *committed* configuration: changes submitted on Edit Settings are only staged
in the model until the Uncommitted Changes page commits them (ENA-5). Registering needs no commit (REG-3).
"""

from __future__ import annotations

from aiohttp import web

from .. import messages as msg
from ..model import ApplianceError, RegState
from ..templates import cloud_services_html as page
from .context import GuiContext, csrf, flash, gui, redirect
from .paths import CLOUD_PATH, DEREGISTER_PATH, EDIT_PATH, REGISTER_PATH, REREGISTER_PATH

TITLE = "Cloud Service Settings"


async def settings(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    a = ctx.appliance
    committed = a.committed  # never the pending configuration (ENA-5)
    services = page.services_box(ctx.labels, committed.enabled, a.server_label(committed.server), EDIT_PATH)
    return ctx.render(request, TITLE, services + _registration(ctx, request))


def _registration(ctx: GuiContext, request: web.Request) -> str:
    a = ctx.appliance
    state = a.state
    if a.accepts_token:
        return page.register_form(REGISTER_PATH, csrf(request),
                                  a.status_message() if state is RegState.FAILED else None)
    if state is RegState.REGISTERED:
        reregister = REREGISTER_PATH if a.spec.release.gui_reregister else None  # REG-9
        return page.registered_form(DEREGISTER_PATH, csrf(request), a.status_message(), reregister)
    return page.status_box(a.status_message())


def _edit_page(ctx: GuiContext, request: web.Request, status: int = 200) -> web.Response:
    staged = ctx.appliance.staged  # the edit form edits what will be committed
    selected = staged.server or ctx.appliance.server_names()[0]  # AMERICAS is the default (ENA-3)
    form = page.edit_form(EDIT_PATH, csrf(request), ctx.labels, staged.enabled, ctx.server_options(), selected,
                          CLOUD_PATH)
    return ctx.render(request, TITLE, form, status)


async def edit_form(request: web.Request) -> web.StreamResponse:
    return _edit_page(gui(request), request)


async def edit_submit(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    form = await request.post()
    enabled = form.get("enabled") == "on"
    try:
        ctx.appliance.set_enabled(enabled)
        # Why only when enabled: the server select is greyed out while the box is unchecked.
        if enabled and form.get("server"):
            ctx.appliance.set_server(str(form["server"]))
    except ApplianceError as exc:
        flash(request, "error", str(exc))
        return _edit_page(ctx, request, 400)
    return redirect(CLOUD_PATH)  # staged only: nothing changes until commit (ENA-5)


async def register(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        gui(request).appliance.register(str(form.get("token", "")))
    except ApplianceError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "success", msg.REGISTER_INITIATED)
    return redirect(CLOUD_PATH)


async def deregister(request: web.Request) -> web.StreamResponse:
    try:
        gui(request).appliance.deregister()
    except ApplianceError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "success", msg.DEREGISTER_INITIATED)
    return redirect(CLOUD_PATH)


# ---- Reregister (REG-9) --------------------------------------------------------------------------
def _reregister_offered(ctx: GuiContext) -> None:
    if not ctx.appliance.spec.release.gui_reregister:
        raise web.HTTPNotFound()


async def reregister_form(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    _reregister_offered(ctx)
    current = ctx.appliance.committed.server or ctx.appliance.server_names()[0]
    form = page.reregister_form(REREGISTER_PATH, csrf(request), ctx.server_options(), current, CLOUD_PATH)
    return ctx.render(request, TITLE, form)


async def reregister_submit(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    _reregister_offered(ctx)
    form = await request.post()
    server = str(form.get("server", "")) or None
    token = str(form.get("token", "")).strip() or None
    if token is None and form.get("confirm") != "yes":
        dialog = page.reregister_confirm(REREGISTER_PATH, csrf(request), server or "", msg.REREGISTER_CONFIRM_TITLE,
                                         msg.REREGISTER_CONFIRM_TEXT, CLOUD_PATH)
        return ctx.render(request, msg.REREGISTER_CONFIRM_TITLE, dialog)
    if server == ctx.appliance.committed.server:
        server = None  # the model commits a server change; an unchanged server is no change
    try:
        ctx.appliance.reregister(server, token)
    except ApplianceError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "success", msg.REREGISTER_INITIATED)
    return redirect(CLOUD_PATH)
