"""The landing page of each tab (Monitor, Network, ...): its menu as links."""

from __future__ import annotations

from aiohttp import web

from ..templates import sections_html
from .context import gui


async def section(request: web.Request) -> web.StreamResponse:
    ctx = gui(request)
    tab = next(t for t in ctx.tabs if t.href == request.path)
    return ctx.render(request, tab.label, sections_html.section(tab))
