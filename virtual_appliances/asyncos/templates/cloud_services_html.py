"""Network > Cloud Service Settings: the settings, registration, edit and reregister forms (pure HTML)."""

from __future__ import annotations

from ..releases import CloudLabels
from . import pages as tpl
from .pages import esc


def _cancel_submit(cancel_href: str) -> str:
    return (f'<div class="actions">{tpl.link_button("Cancel", cancel_href, "cancel")}<span class="right">'
            f'{tpl.submit_button("Submit", "submit", primary=True)}</span></div>')


def services_box(labels: CloudLabels, enabled: bool, server_label: str, edit_href: str) -> str:
    """The committed configuration (ENA-5) with the button that opens the edit form."""
    edit = labels.edit if enabled else labels.edit_when_disabled
    return tpl.box("Cloud Services", [
        (tpl.label(labels.feature), "Enabled" if enabled else "Disabled"),
        (tpl.label(labels.server), esc(server_label)),
    ], tpl.link_button(edit, edit_href, "edit_settings"), box_id="cloud_services")


def _status_row(status: str) -> tuple[str, str]:
    return tpl.label("Status:"), f'<span id="status">{esc(status)}</span>'


def register_form(action: str, csrf: str, status: str | None) -> str:
    """The Registration Token field and Register button (ENA-4); the status row after a failure."""
    rows = [_status_row(status)] if status is not None else []
    rows.append((tpl.label("Registration Token:", help_mark=True), tpl.text_input("token")))
    inner = tpl.box("Cloud Services Settings", rows, tpl.submit_button("Register", "register", primary=True),
                    box_id="cloud_services_settings")
    return tpl.post_form(action, csrf, inner, "register_form")


def registered_form(action: str, csrf: str, status: str, reregister_href: str | None) -> str:
    buttons = tpl.submit_button("Deregister", "deregister")
    if reregister_href:
        buttons = tpl.link_button("Reregister", reregister_href, "reregister") + " " + buttons
    inner = tpl.box("Cloud Services Settings", [_status_row(status)], buttons, box_id="cloud_services_settings")
    return tpl.post_form(action, csrf, inner, "deregister_form")


def status_box(status: str) -> str:
    return tpl.box("Cloud Services Settings", [_status_row(status)], box_id="cloud_services_settings")


def edit_form(action: str, csrf: str, labels: CloudLabels, enabled: bool, options: list[tuple[str, str]],
              selected: str, cancel_href: str) -> str:
    rows = [
        (tpl.label(labels.feature), tpl.checkbox("enabled", labels.enable, enabled)),
        (f'<label for="server">{esc(labels.server_choice)}</label>', tpl.select("server", options, selected)),
    ]
    return tpl.post_form(action, csrf, tpl.box("Edit Cloud Services", rows) + _cancel_submit(cancel_href),
                         "edit_form")


def reregister_form(action: str, csrf: str, options: list[tuple[str, str]], current: str, cancel_href: str) -> str:
    rows = [
        (tpl.label("Cisco Secure Server:"), tpl.select("server", options, current)),
        (tpl.label("Registration Token (optional):"), tpl.text_input("token")),
    ]
    return tpl.post_form(action, csrf, tpl.box("Reregister", rows) + _cancel_submit(cancel_href), "reregister_form")


def reregister_confirm(action: str, csrf: str, server: str, title: str, text: str, cancel_href: str) -> str:
    hidden = (f'<input type="hidden" name="server" value="{esc(server)}">'
              '<input type="hidden" name="confirm" value="yes">')
    dialog = (f'<table class="box" id="confirm_reregistration"><caption>{esc(title)}'
              f"</caption><tr><td>{esc(text)}</td></tr></table>")
    return tpl.post_form(action, csrf, hidden + dialog + _cancel_submit(cancel_href), "confirm_form")
