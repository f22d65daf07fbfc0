"""The record of every exchange a driver had with a lab: CLI dialogs, HTTP requests, SMTP sessions.

Drivers append to a :class:`Transcript`; the pytest plugin attaches it to the report, either at the
end or live through a *sink* (a callable that receives each :class:`Exchange`). An exchange keeps what
was said as it was said (an HTML page stays HTML) and turns it into report text only when someone reads
it: most exchanges of a passing run are never read, and rendering and masking them would be work
nobody uses. Whatever is read is masked, so nothing handed to a sink or a report holds a secret:

1. values the drivers know are secret (passwords, tokens they were given or received) are registered
   with the session's masker (:mod:`harness.report.masking`, the one masking mechanism) as they are
   learned, and every form of them is replaced, together with free-text ``Bearer``/``Basic`` credentials,
2. ``Authorization``-style credentials and secret-named fields are replaced by the structured helpers
   (:func:`mask_headers`, :func:`mask_form`, :func:`mask_json`) the HTTP layer uses when it renders,
3. the pluggable ``mask`` of the transcript runs last.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .report import masking
from .report.masking import MASK, Masker
from .report.secret_forms import MIN_SECRET_LEN

log = logging.getLogger(__name__)

__all__ = ["MASK", "MIN_SECRET_LEN", "Exchange", "Transcript", "mask_body", "mask_form", "mask_headers", "mask_json",
           "mask_url", "scrub", "secret_values"]

Mask = Callable[[str], str]
Sink = Callable[["Exchange"], None]
Text = str | Callable[[], str]  # a text, or what renders it when it is first read

# Names of headers, form fields, JSON keys and query parameters whose values are secret.
SECRET_NAME = re.compile(
    r"pass(word|phrase|wd)?|secret|token|authori[sz]ation|api[_-]?key|jwt|credential|csrf|cookie|session|sid$",
    re.IGNORECASE,
)
NOT_SECRET = frozenset({"token_type", "expires_in", "session_timeout"})  # secret-sounding, harmless names
# Masked by name wherever they appear, but not learned as values: they are short-lived, per session,
# and there would be one per request.
_SESSION_SCOPED = re.compile(r"csrf|cookie|session|sid$|^token_type$|^expires_in$", re.IGNORECASE)


def identity(text: str) -> str:
    return text


class Exchange:
    """One request and its answer; ``request``, ``response`` and ``status`` are rendered and masked
    when first read (with the masker of the session that recorded them)."""

    __slots__ = ("_mask", "_masker", "_max_chars", "_texts", "duration", "endpoint", "kind", "source", "started")

    def __init__(self, kind: str, source: str, endpoint: str, request: Text, response: Text, started: datetime,
                 duration: float = 0.0, status: Text = "", *, html: Text = "", masker: Masker | None = None,
                 mask: Mask = identity, max_chars: int = 64_000) -> None:
        self.kind = kind  # "cli", "ssh-exec", "http", "smtp"
        self.source = source  # who talked, e.g. "esa1 CLI"
        self.endpoint = endpoint  # where, e.g. "127.0.0.1:2222" or "https://host:443"
        self.started = started
        self.duration = duration  # seconds
        self._texts: list[Text] = [request, response, status, html]
        self._masker = masker or masking.current()
        self._mask = mask
        self._max_chars = max_chars  # per text: long pages are cut, not dropped

    def _text(self, index: int, *, as_text: bool = True) -> str:
        value = self._texts[index]
        if type(value) is _Shown:
            return value
        raw = value() if callable(value) else value
        if raw and as_text:
            raw = self._clip(self._mask(self._masker.scrub(raw)))
        elif raw:
            raw = self._masker.scrub(raw)  # a page's own markup: masked, never clipped (it must still render)
        shown = _Shown(raw)
        self._texts[index] = shown  # a race only renders twice, to the same text
        return shown

    def _clip(self, text: str) -> str:
        if len(text) <= self._max_chars:
            return text
        return text[: self._max_chars] + f"\n[... {len(text) - self._max_chars} more characters]"

    @property
    def request(self) -> str:
        return self._text(0)

    @property
    def response(self) -> str:
        return self._text(1)

    @property
    def status(self) -> str:  # "200", "ok", "error: ..."
        return self._text(2)

    @property
    def html(self) -> str:
        """A web page's own markup (masked), for the report's screenshot; ``response`` has its text."""
        return self._text(3, as_text=False)

    def render(self) -> str:
        head = (f"--- {self.started:%H:%M:%S.%f}"[:-3] + f" {self.kind} {self.source} {self.endpoint}"
                f" ({self.duration * 1000:.0f} ms){' ' + self.status if self.status else ''}")
        return f"{head}\n>>> {self.request}\n<<< {self.response}\n"

    def __repr__(self) -> str:
        return f"<Exchange {self.kind} {self.source} {self.endpoint} {self.started:%H:%M:%S}>"


class _Shown(str):
    """A text already rendered and masked (so a raw text is never mistaken for one)."""


def scrub(text: str) -> str:
    """``text`` without any secret this session knows (for exception messages, logs)."""
    return masking.scrub(text)


# Process-wide sinks that see every transcript's exchanges (the report's per-step evidence, attached
# to a failing step); a driver need not know the report exists.
_OBSERVERS: list[Sink] = []


def observe(sink: Sink) -> Callable[[], None]:
    """Let ``sink`` see every exchange of every transcript until the returned undo is called."""
    _OBSERVERS.append(sink)

    def undo() -> None:
        if sink in _OBSERVERS:
            _OBSERVERS.remove(sink)

    return undo


class Transcript:
    """Thread-safe, bounded list of exchanges with pluggable masking and sinks."""

    def __init__(self, name: str = "transcript", mask: Mask | None = None, sinks: Iterable[Sink] = (),
                 max_entries: int = 5000, max_chars: int = 64_000) -> None:
        self.name = name
        self.mask: Mask = mask or identity
        self.max_chars = max_chars  # per request/response text: long pages are cut, not dropped
        self._entries: deque[Exchange] = deque(maxlen=max_entries)
        self._sinks: list[Sink] = list(sinks)
        self._lock = threading.Lock()

    # ---- configuration ------------------------------------------------------------------------
    def add_sink(self, sink: Sink) -> None:
        with self._lock:
            self._sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    def add_secret(self, *values: str | None) -> None:
        """Values that must never appear, in any output of the session (not only this transcript)."""
        masking.add_secret(*values)

    def add_credentials(self, username: str | None, password: str | None) -> None:
        """A password and the ``Authorization: Basic`` value of ``username:password``."""
        masking.add_credentials(username, password)

    # ---- masking ------------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        return self.mask(masking.scrub(text))

    # ---- recording ----------------------------------------------------------------------------
    def record(self, kind: str, source: str, endpoint: str, request: Text, response: Text,
               started: datetime | None = None, duration: float = 0.0, status: Text = "", html: Text = "") -> Exchange:
        """Keep one exchange; ``request``, ``response`` and ``html`` (a page's own markup) may be callables that
        render the text when it is first read (an HTML page as visible text)."""
        entry = Exchange(kind, source, endpoint, request, response, started or datetime.now(UTC), duration, status,
                         html=html, mask=self.mask, max_chars=self.max_chars)
        with self._lock:
            self._entries.append(entry)
            sinks = [*self._sinks, *_OBSERVERS]
        for sink in sinks:
            try:
                sink(entry)
            except Exception:  # a broken report attachment must not fail the scenario
                log.warning("transcript sink %r failed", sink, exc_info=True)
        return entry

    @property
    def entries(self) -> list[Exchange]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def render(self, kinds: Iterable[str] | None = None) -> str:
        wanted = set(kinds) if kinds is not None else None
        return "\n".join(e.render() for e in self.entries if wanted is None or e.kind in wanted)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# ---- structured masking (used by the HTTP layer before text is rendered) -------------------------
def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (MASK if SECRET_NAME.search(k) and v else v) for k, v in headers.items()}


def mask_json(value: Any) -> Any:
    """Mask the values of secret-named keys anywhere in a JSON-like structure."""
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and SECRET_NAME.search(k) and k not in NOT_SECRET
                    and v not in (None, "", [], {}) else mask_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    return value


def mask_form(body: str) -> str:
    """Mask secret-named fields of an ``application/x-www-form-urlencoded`` body or query string."""
    pairs = parse_qsl(body, keep_blank_values=True)
    if not pairs:
        return body
    return urlencode([(k, MASK if SECRET_NAME.search(k) and v else v) for k, v in pairs], safe="*")


def secret_values(headers: Mapping[str, str], body: bytes | str | None, content_type: str = "") -> list[str]:
    """The values of secret-named headers, form fields and JSON keys in a request or response.

    The HTTP layer registers them with the transcript, so a secret the server echoes elsewhere (in a
    page, in an error message) is masked there too."""
    found: list[str] = []
    for name, value in headers.items():
        if value and SECRET_NAME.search(name) and not _SESSION_SCOPED.search(name):
            found.append(value.split(None, 1)[-1] if name.lower() == "authorization" else value)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    ctype = content_type.lower()
    if "json" in ctype or text.lstrip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            _json_secrets(json.loads(text), found)
    elif "x-www-form-urlencoded" in ctype:
        found += [v for k, v in parse_qsl(text, keep_blank_values=False)
                  if SECRET_NAME.search(k) and not _SESSION_SCOPED.search(k)]
    return found


def _json_secrets(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and SECRET_NAME.search(k) and not _SESSION_SCOPED.search(k) and isinstance(v, str):
                found.append(v)
            elif isinstance(k, str) and SECRET_NAME.search(k) and isinstance(v, list):
                found += [x for x in v if isinstance(x, str)]
            else:
                _json_secrets(v, found)
    elif isinstance(value, list):
        for v in value:
            _json_secrets(v, found)


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    return urlunsplit(parts._replace(query=mask_form(parts.query)))


def mask_body(body: bytes | str | None, content_type: str = "") -> str:
    """A request or response body as masked text (JSON and forms structurally, anything else as is)."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text:
        return ""
    ctype = content_type.lower()
    if "json" in ctype or (not ctype and text.lstrip()[:1] in ("{", "[")):
        try:
            return json.dumps(mask_json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            return text
    if "x-www-form-urlencoded" in ctype:
        return mask_form(text)
    return text
