"""Page frame and widgets of the legacy AsyncOS web interface.

Everything here is pure: data in, escaped HTML out. Values are escaped with :func:`esc`; arguments
named ``*_html`` are already HTML and are inserted as they are.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

CSS = (Path(__file__).with_name("asyncos.css")).read_text(encoding="utf-8")
CSRF_FIELD = "CSRFKey"  # the name the real GUI uses for its anti-CSRF key (reference/asyncos.md 3)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class MenuItem:
    label: str
    href: str | None = None  # None: shown greyed out, as a page this simulator does not have


@dataclass(frozen=True)
class MenuGroup:
    title: str | None
    items: tuple[MenuItem, ...]


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    href: str
    groups: tuple[MenuGroup, ...] = ()


@dataclass
class Chrome:
    """The frame around every page after login."""

    model: str  # "Cisco C100V"
    product: str  # "Email Security Virtual Appliance"
    hostname: str
    username: str
    tabs: Sequence[Tab]
    active_tab: str | None
    has_pending: bool
    path: str  # the current page, where Commit/Cancel return to
    flashes: list[tuple[str, str]] = field(default_factory=list)  # (success|error|warning, text)


def _brand(model: str, product: str) -> str:
    bars = "".join(f'<span style="height:{h}px"></span>' for h in (8, 14, 20, 14, 8, 14, 20, 14, 8))
    return (f'<div id="brand"><div><div id="logo">{bars}</div><div id="logo-text">CISCO</div></div>'
            f'<div><div id="model">{esc(model)}</div><div id="product">{esc(product)}</div></div></div>')


def _tabs(tabs: Iterable[Tab], active: str | None) -> str:
    out = []
    for tab in tabs:
        menu = "".join(_menu_group(g) for g in tab.groups)
        cls = ' class="active"' if tab.key == active else ""
        out.append(f'<li{cls}><a href="{esc(tab.href)}">{esc(tab.label)}</a>'
                   f'<div class="menu">{menu}</div></li>')
    return f'<ul id="tabs">{"".join(out)}</ul>'


def _menu_group(group: MenuGroup) -> str:
    title = f"<h4>{esc(group.title)}</h4>" if group.title else ""
    return title + "".join(_menu_item(i) for i in group.items)


def _menu_item(item: MenuItem) -> str:
    if item.href is None:
        return f'<span class="off">{esc(item.label)}</span>'
    return f'<a href="{esc(item.href)}">{esc(item.label)}</a>'


def flashes_html(flashes: Iterable[tuple[str, str]]) -> str:
    return "".join(f'<div class="flash {esc(kind)}" role="status">{esc(text)}</div>' for kind, text in flashes)


def document(title: str, body_html: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body>{body_html}</body></html>")


def layout(chrome: Chrome, title: str, content_html: str, no_changes_label: str) -> str:
    """A page of the logged-in GUI: header with the commit button, the tab bar, then the content."""
    if chrome.has_pending:
        # Why a link: the real button opens the Uncommitted Changes page, it does not commit by itself.
        commit = (f'<a id="commit_changes" class="commit-button" '
                  f'href="/commit?{urlencode({"referrer": chrome.path})}">Commit Changes &#9658;</a>')
    else:
        commit = f'<span id="no_changes" class="no-changes">{esc(no_changes_label)}</span>'
    header = (
        f'<div id="header">{_brand(chrome.model, chrome.product)}'
        f'<div id="session"><div>Logged in as: <b>{esc(chrome.username)}</b> on {esc(chrome.hostname)}'
        f'<span class="links"><a href="#">My Favorites</a><a href="#">Options</a>'
        f'<a href="#">Help and Support</a><a id="logout" href="/logout">Log Out</a></span></div>'
        f'<div id="commit-area">{commit}</div></div></div>'
    )
    body = (f"{header}{_tabs(chrome.tabs, chrome.active_tab)}<div id=\"content\"><h1>{esc(title)}</h1>"
            f"{flashes_html(chrome.flashes)}{content_html}</div>")
    return document(title, body)


def box(caption: str, rows: Iterable[tuple[str, str]], footer_html: str = "", box_id: str = "") -> str:
    """A section table: caption bar, "Label:" / value rows (HTML), optional right-aligned footer."""
    ident = f' id="{esc(box_id)}"' if box_id else ""
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    if footer_html:
        body += f'<tr><td class="footer" colspan="2">{footer_html}</td></tr>'
    return f'<table class="box"{ident}><caption>{esc(caption)}</caption>{body}</table>'


def label(text: str, help_mark: bool = False) -> str:
    return esc(text) + ('<span class="help" title="Help">?</span>' if help_mark else "")


def link_button(text: str, href: str, ident: str, primary: bool = False) -> str:
    cls = "button primary" if primary else "button"
    return f'<a id="{esc(ident)}" class="{cls}" href="{esc(href)}">{esc(text)}</a>'


def submit_button(text: str, ident: str, name: str = "action", value: str = "", primary: bool = False) -> str:
    cls = ' class="primary"' if primary else ""
    return (f'<button type="submit" id="{esc(ident)}" name="{esc(name)}" value="{esc(value or ident)}"{cls}>'
            f"{esc(text)}</button>")


def csrf_input(csrf: str) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{esc(csrf)}">'


def post_form(action: str, csrf: str, inner_html: str, ident: str = "") -> str:
    form_id = f' id="{esc(ident)}"' if ident else ""
    return f'<form method="post" action="{esc(action)}"{form_id}>{csrf_input(csrf)}{inner_html}</form>'


def select(name: str, options: Iterable[tuple[str, str]], selected: str | None) -> str:
    opts = "".join(
        f'<option value="{esc(v)}"{" selected" if v == selected else ""}>{esc(text)}</option>' for v, text in options
    )
    return f'<select id="{esc(name)}" name="{esc(name)}">{opts}</select>'


def checkbox(name: str, text: str, checked: bool) -> str:
    mark = " checked" if checked else ""
    return (f'<input type="checkbox" id="{esc(name)}" name="{esc(name)}" value="on"{mark}>'
            f' <label for="{esc(name)}">{esc(text)}</label>')


def text_input(name: str, value: str = "", size: int = 40) -> str:
    return f'<input type="text" id="{esc(name)}" name="{esc(name)}" value="{esc(value)}" size="{size}">'


def radio(name: str, value: str, text: str, checked: bool) -> str:
    mark = " checked" if checked else ""
    ident = f"{name}_{value}"
    return (f'<input type="radio" id="{esc(ident)}" name="{esc(name)}" value="{esc(value)}"{mark}>'
            f' <label for="{esc(ident)}">{esc(text)}</label>')


def login_page(model: str, product: str, csrf: str, referrer: str, error: str | None, username: str = "") -> str:
    err = flashes_html([("error", error)]) if error else ""
    form = (
        f'<form method="post" action="/login" id="login_form">{csrf_input(csrf)}'
        f'<input type="hidden" name="action" value="Login"><input type="hidden" name="screen" value="login">'
        f'<input type="hidden" name="referrer" value="{esc(referrer)}">'
        f'<label for="username">Username:</label>'
        f'<input type="text" id="username" name="username" value="{esc(username)}" autocomplete="username">'
        f'<label for="password">Passphrase:</label>'
        f'<input type="password" id="password" name="password" autocomplete="current-password">'
        f'<div class="actions"><span></span><span class="right">'
        f'<button type="submit" id="login_button" class="primary">Login</button></span></div></form>'
    )
    body = f'<div id="login">{_brand(model, product)}<h1>Log In</h1>{err}{form}</div>'
    return document(f"{model} {product} - Log In", body)


def error_page(status: int, reason: str) -> str:
    return document(f"{status} {reason}", f'<div id="content"><h1>{status} {esc(reason)}</h1></div>')
