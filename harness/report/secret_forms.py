"""The forms a secret value takes on its way into a report, so that each of them can be masked.

A password is rarely printed as it is: a traceback shows it in a Python repr (either quote style,
escaped backslashes and quotes, ``\\xe9`` in ``ascii()``, UTF-8 bytes in a bytes repr), an HTTP body in
JSON (``ensure_ascii`` on or off) or URL encoding (``quote``, ``quote_plus``), a command line in shell
quoting, a page in HTML entities, an ``Authorization: Basic`` header in base64 of ``user:password``.
A repr of a JSON text (or the JSON of a repr) escapes twice; those forms are included too.

Why a minimum length: masking a value of fewer than :data:`MIN_SECRET_LEN` characters would replace
ordinary words and numbers all over a report (a 3-character password ``abc`` would hide every
``abc``, ports and counters), and such a value is guessed in moments anyway. Real secrets are longer:
AsyncOS passwords, SSE API keys, registration tokens and client secrets all are. A shorter value is
not masked, and the masker says so in one warning line (which never shows the value).
"""

from __future__ import annotations

import base64
import html
import json
import re
import shlex
from urllib.parse import quote, quote_plus, unquote

MIN_SECRET_LEN = 4
# Characters that repr, JSON, URL quoting (unreserved), shell quoting and HTML escaping all leave alone.
_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")


def py_escape(value: str, quote_char: str = "'", ascii_only: bool = False) -> str:
    """``value`` as it appears between the quotes of a Python repr that uses ``quote_char``
    (of an ``ascii()`` with ``ascii_only``)."""
    out: list[str] = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote_char:
            out.append("\\" + ch)
        elif ch.isprintable() and (ch.isascii() or not ascii_only):
            out.append(ch)
        else:  # \n, \t, \x00, \u2028, \xe9 in ascii(): the escape repr uses for this character
            out.append(ascii(ch)[1:-1])
    return "".join(out)


def _repr_forms(value: str) -> set[str]:
    utf8 = value.encode("utf-8")
    bytes_single = repr(utf8 + b"'\"")[2:-4]  # both quotes present: repr picks ' and escapes it
    return {py_escape(value, "'"), py_escape(value, '"'), py_escape(value, "'", True), py_escape(value, '"', True),
            bytes_single, bytes_single.replace("\\'", "'").replace('"', '\\"')}


def _json_forms(value: str) -> set[str]:
    return {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


def forms(value: str) -> set[str]:
    """Every form of ``value`` worth masking (``value`` included); none shorter than the value."""
    if _PLAIN.fullmatch(value):  # tokens, keys, JWTs: no escaping changes them
        return {value}
    found = {value}
    escaped = _repr_forms(value) | _json_forms(value)
    found |= escaped
    for once in escaped - {value}:  # escaped twice: a repr of a JSON text, a JSON of a repr
        found |= _repr_forms(once) | _json_forms(once)
    found |= {quote(value, safe=""), quote(value), quote_plus(value), shlex.quote(value),
              html.escape(value), html.escape(value, quote=False),
              html.escape(value).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")}
    if "\n" in value or "\r" in value:
        # A line diff (pytest's assertion output) prints a multi-line value line by line.
        found |= {line for line in value.splitlines() if len(line.strip()) >= MIN_SECRET_LEN}
    decoded = unquote(value)
    if decoded != value:  # given URL-encoded (a proxy URL's password): sent decoded
        found |= forms(decoded)
    return found


def basic_auth(username: str, password: str) -> str:
    """The credentials of an ``Authorization: Basic`` header (RFC 7617)."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def credential_forms(username: str | None, password: str) -> set[str]:
    """The password's forms and, where the user is known, the Basic header value of the pair."""
    found = forms(password)
    if username:
        found.add(basic_auth(username, password))
        found.add(basic_auth(unquote(username), unquote(password)))
    return found
