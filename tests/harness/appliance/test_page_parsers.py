"""lxml's parser and the html.parser fallback build the same page model (harness/appliance/page.py)."""

from __future__ import annotations

import pytest

from harness.appliance import page

MARKUP = """<!DOCTYPE html><html><head><title>Cloud Service Settings</title></head><body>
<div id="commit-area"><a class="commit-button" href="/commit?CSRFKey=abc123">Commit Changes &#9658;</a></div>
<h1>Cloud Service Settings</h1><div class="flash success">Success &mdash; settings saved.</div>
<table class="box"><tr><th>Threat Response:<td>Enabled<tr><th>Status:</th><td>Registered &amp; ready</td></tr></table>
<form method="post" action="/network/cloud"><label for="tok">Registration Token</label>
<input id="tok" name="token" type="text">
<select name="server"><option value="1">AMERICAS<option value="2" selected>EUROPE
</select><input type="submit" value="Register"></form><ul><li>one<li>two</ul></body></html>"""


def _shape(p: page.Page) -> str:
    forms = [(f.action, f.method, f.fields, [(b.text, b.name, b.value) for b in f.buttons]) for f in p.forms]
    return repr((p.title, p.heading, p.messages, p.rows, forms, p.links, p.text, p.csrf_key))


def test_lxml_and_html_parser_read_the_same_page(monkeypatch: pytest.MonkeyPatch) -> None:
    with_lxml = page.read_page(MARKUP, "https://esa/network")
    monkeypatch.setattr(page, "_lxml_etree", None)
    with_stdlib = page.read_page(MARKUP, "https://esa/network")
    assert _shape(with_lxml) == _shape(with_stdlib)
    assert with_lxml.button("Commit Changes") is not None  # one text node "Commit Changes ►", not two
    assert with_lxml.value("Threat Response") == "Enabled"  # the unclosed <td> closed as a browser does
    assert with_lxml.value("Status") == "Registered & ready"
    assert with_lxml.csrf_key == "abc123"
    assert with_lxml.messages == [page.Message("success", "Success \u2014 settings saved.")]


def test_an_empty_answer_is_an_empty_page() -> None:
    empty = page.read_page("", "https://esa/")
    assert (empty.title, empty.forms, empty.text) == ("", [], "")
