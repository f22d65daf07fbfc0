"""System Administration > Account Settings: the remediation profile (REM-1) (pure HTML)."""

from __future__ import annotations

from . import pages as tpl
from .pages import esc


def account_page(action: str, csrf: str, committed: bool, staged: bool, help_text: str) -> str:
    current = tpl.box("Remediation Profile", [
        (tpl.label("Remediation Profile:"),
         f'<span id="remediation_status">{"Enabled" if committed else "Disabled"}</span>'),
    ], box_id="remediation_profile_box")
    rows = [(tpl.label("Remediation Profile:"),
             tpl.checkbox("remediation_profile", "Enable Remediation Profile", staged)
             + f'<div class="muted">{esc(help_text)}</div>')]
    actions = f'<div class="actions"><span></span><span class="right">{tpl.submit_button("Submit", "submit")}'
    actions += "</span></div>"
    form = tpl.post_form(action, csrf, tpl.box("Edit Remediation Profile", rows) + actions, "account_form")
    return current + form
