"""The page model reads markup it was not written for: labels, not ids (sloppy legacy HTML here)."""

from __future__ import annotations

from harness.appliance.gui import _assign, form_data, tracking_rows
from harness.appliance.page import norm, read_page

LEGACY = """<html><head><title>Cisco C100V Email Security Virtual Appliance</title>
<script src="https://esa/javascript?CSRFKey=abc123key&language=en-us"></script></head>
<body><div class="title">Cloud Service Settings</div>
<div role="alert" class="alert">Error - The registration failed because of an invalid or expired token.</div>
<table class="pairs">
<tr><td class="label">Threat Response:<td>Enabled
<tr><td class="label">Threat Response Server:<td>EUROPE (api.eu.sse.itd.cisco.com)
<tr><td>Just text without a label cell
</table>
<form action="/network/cloud_service_settings/edit" method="POST">
<input type="hidden" name="screen" value="cloud">
<table>
<tr><td>Threat Response:</td><td><label><input type="checkbox" name="enabled"> Enable</label></td></tr>
<tr><td>Threat Response Server:</td><td><select name="srv">
  <option value="1">AMERICAS (api-sse.cisco.com)
  <option value="2" selected>EUROPE (api.eu.sse.itd.cisco.com)
</select></td></tr>
<tr><td><label for="c">Comment (optional):</label></td><td><textarea id="c" name="comment"></textarea></td></tr>
</table>
<input type="button" value="Cancel" onclick="history.back()">
<input type="submit" name="action" value="Submit">
</form>
<a href="/commit" class="button">Commit Changes &#9658;</a>
</body></html>"""


def test_rows_messages_and_csrf_from_legacy_markup() -> None:
    page = read_page(LEGACY, "https://esa/network/cloud_service_settings")
    assert page.value("Threat Response:") == "Enabled"
    assert page.value("threat response server") == "EUROPE (api.eu.sse.itd.cisco.com)"
    assert page.messages[0].kind == "error" and "invalid or expired token" in page.messages[0].text
    assert page.csrf_key == "abc123key"
    assert page.title.startswith("Cisco C100V")
    assert page.link("Commit Changes") is not None  # the arrow is not part of the label
    assert not page.is_login


def test_forms_by_label_and_what_a_browser_posts() -> None:
    page = read_page(LEGACY, "https://esa/network/cloud_service_settings")
    form = page.form_with("Enable")
    assert form is not None and form.method == "post" and form.action == "https://esa/network/cloud_service_settings/edit"
    assert [b.text for b in form.buttons] == ["Submit"]  # type=button does nothing without scripts
    server = form.fields_labelled("Threat Response Server")[0]
    assert [o.text for o in server.options] == ["AMERICAS (api-sse.cisco.com)", "EUROPE (api.eu.sse.itd.cisco.com)"]
    assert server.selected_text.startswith("EUROPE")
    _assign("t", "Enable", form.fields_labelled("Enable"), True)
    _assign("t", "Server", [server], "AMERICAS")
    _assign("t", "Comment", form.fields_labelled("Comment (optional)"), "why")
    assert form_data(form, form.buttons[0]) == [("screen", "cloud"), ("enabled", "on"), ("srv", "1"),
                                                ("comment", "why"), ("action", "Submit")]


def test_login_page_detection_and_tracking_blocks() -> None:
    login = read_page('<form method="post"><input name="user"><input type="password" name="pw"></form>', "https://x/")
    assert login.is_login
    casebook = read_page('<form><label>Client Password<input type="password" name="secret"></label></form>', "https://x/")
    assert not casebook.is_login  # a password field alone is not a log-in page
    results = read_page('<div><span>MID: 7</span><dl><dt>SENDER:</dt><dd>a@x</dd><dt>SUBJECT:</dt><dd>hi</dd>'
                        '<dt>LAST STATE:</dt><dd>Delivered</dd></dl></div>'
                        '<div><span>MID: 8</span><dl><dt>SENDER:</dt><dd>b@x</dd></dl></div>', "https://x/")
    rows = tracking_rows(results)
    assert [(r.mid, r.sender, r.subject, r.last_state) for r in rows] == [(7, "a@x", "hi", "Delivered"),
                                                                          (8, "b@x", "", "")]


def test_norm() -> None:
    assert norm("  Registration   Token: ? ") == "registration token"
    assert norm("Commit Changes \u25ba") == "commit changes"
