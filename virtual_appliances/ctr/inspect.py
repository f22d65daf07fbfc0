"""``POST /iroh/iroh-inspect/inspect``: find observables in text.

Two forms are recognised, as the Investigate box does (VER-6):

* the investigate syntax ``type:"value"`` (``ip:"4.2.2.2"``, ``email_subject:"Invoice Due"``, ...) for
  every CTIM observable type; it must be exact: ``email_subject=test test`` or ``email_subject:test``
  yields no email_subject (TS-2, "the query syntax is wrong");
* free text: URLs, email addresses, IPv4 addresses, SHA-256/SHA-1/MD5 hashes and domain names.

Results are unique and in the order they appear in the text.
"""

from __future__ import annotations

import ipaddress
import re

from .observables import OBSERVABLE_TYPES, Observable, observable, unique

_TYPED = re.compile(r'(?<![\w.])([a-z][a-z0-9_]*):"([^"\r\n]*)"')
_URL = re.compile(r"\bhttps?://[^\s\"'<>]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}\b")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_HASH = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![0-9A-Fa-f])")
_DOMAIN = re.compile(r"(?<![\w.@-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63})(?![\w-])")
_HASH_TYPES = {64: "sha256", 40: "sha1", 32: "md5"}
_TRAILING = ".,;:!?)]}'\""

# Top-level domains recognised in free text; file names such as invoice.pdf must not become domains.
_TLD_NAMES = """
com net org edu gov mil int info biz io co me tv cc ai app dev xyz site online top club shop cloud tech
example test invalid arpa
us uk eu de fr jp cn ru ca au in br nl it es se no fi dk pl ch at be cz kr tw hk sg mx ar za nz ie pt gr tr
il ua ro hu sk si bg hr rs lt lv ee is lu ly ma ng ke eg sa ae qa ir pk bd th vn my id ph cl pe ve
"""
TLDS = frozenset(_TLD_NAMES.split())

_VALUE_CHECKS = {
    "ip": lambda v: _is_ip(v, 4),
    "ipv6": lambda v: _is_ip(v, 6),
    "sha256": lambda v: re.fullmatch(r"[0-9A-Fa-f]{64}", v) is not None,
    "sha1": lambda v: re.fullmatch(r"[0-9A-Fa-f]{40}", v) is not None,
    "md5": lambda v: re.fullmatch(r"[0-9A-Fa-f]{32}", v) is not None,
    "email": lambda v: re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v) is not None,
    "domain": lambda v: re.fullmatch(r"(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]{2,63}", v) is not None,
    "url": lambda v: re.match(r"[A-Za-z][A-Za-z0-9+.-]*://\S+$", v) is not None,
}


def _is_ip(value: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def find_observables(content: str) -> list[Observable]:
    found: list[tuple[int, Observable]] = []
    text = content

    def blank(start: int, end: int) -> None:
        nonlocal text
        text = text[:start] + " " * (end - start) + text[end:]

    for m in _TYPED.finditer(content):
        kind, value = m.group(1), m.group(2).strip()
        if kind not in OBSERVABLE_TYPES or not value:
            continue
        check = _VALUE_CHECKS.get(kind)
        if check is None or check(value):
            found.append((m.start(), observable(kind, value)))
            blank(m.start(), m.end())

    for m in list(_URL.finditer(text)):
        value = m.group(0).rstrip(_TRAILING)
        found.append((m.start(), observable("url", value)))
        blank(m.start(), m.start() + len(value))
    for m in list(_EMAIL.finditer(text)):
        found.append((m.start(), observable("email", m.group(0))))
        blank(m.start(), m.end())
    for m in list(_IPV4.finditer(text)):
        if _is_ip(m.group(0), 4):
            found.append((m.start(), observable("ip", m.group(0))))
            blank(m.start(), m.end())
    for m in list(_HASH.finditer(text)):
        found.append((m.start(), observable(_HASH_TYPES[len(m.group(0))], m.group(0).lower())))
        blank(m.start(), m.end())
    for m in _DOMAIN.finditer(text):
        if m.group(1).lower() in TLDS:
            found.append((m.start(), observable("domain", m.group(0).lower())))

    found.sort(key=lambda pair: pair[0])
    return unique([obs for _, obs in found])
