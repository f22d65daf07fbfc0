"""The Uncommitted Changes page (pure HTML)."""

from __future__ import annotations

from . import pages as tpl
from .pages import esc


def commit_form(action: str, csrf: str, notice: str, pending: bool, referrer: str, comment: str) -> str:
    rows = f'<tr><td colspan="2" id="notice">{esc(notice)}</td></tr>'
    buttons = ""
    if pending:
        rows += (f'<tr><th><label for="comment">Comment (optional):</label></th>'
                 f"<td>{tpl.text_input('comment', comment, 60)}</td></tr>")
        buttons = (tpl.submit_button("Abandon Changes", "abandon") + " "
                   + tpl.submit_button("Commit Changes", "commit", primary=True))
    body = (f'<input type="hidden" name="referrer" value="{esc(referrer)}">'
            f'<table class="box"><caption>Commit Changes</caption>{rows}</table>'
            f'<div class="actions">{tpl.link_button("Cancel", referrer, "cancel")}'
            f'<span class="right">{buttons}</span></div>')
    return tpl.post_form(action, csrf, body, "commit_form")
