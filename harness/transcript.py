"""The record of every exchange a driver had with a lab: CLI dialogs, HTTP requests, SMTP sessions.

Drivers append to a :class:`Transcript`; the pytest plugin attaches it to the report, either at the
end or live through a *sink* (a callable that receives each :class:`Exchange`). Everything is masked
on the way in, so nothing stored or handed to a sink ever holds a secret:

1. values the drivers know are secret (passwords, tokens they were given or received) are replaced,
2. ``Authorization``-style credentials and secret-named fields are replaced by the structured helpers
   (:func:`mask_headers`, :func:`mask_form`, :func:`mask_json`) the HTTP layer uses,
3. the pluggable ``mask`` (the report layer's masking of every testbed secret) runs last.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

log = logging.getLogger(__name__)

MASK = "***"
Mask = Callable[[str], str]
Sink = Callable[["Exchange"], None]

# Names of headers, form fields, JSON keys and query parameters whose values are secret.
SECRET_NAME = re.compile(
    r"pass(word|phrase|wd)?|secret|token|authori[sz]ation|api[_-]?key|jwt|credential|csrf|cookie|session|sid$",
    re.IGNORECASE,
)
NOT_SECRET = frozenset({"token_type", "expires_in", "session_timeout"})  # secret-sounding, harmless names
# Masked by name wherever they appear, but not learned as values: they are short-lived, per session,
# and there would be one per request (the registry stays small and fast).
_SESSION_SCOPED = re.compile(r"csrf|cookie|session|sid$|^token_type$|^expires_in$", re.IGNORECASE)
_CREDENTIAL = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
MIN_SECRET_LEN = 4  # shorter values would mask ordinary words


def identity(text: str) -> str:
    return text


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, already masked."""

    kind: str  # "cli", "ssh-exec", "http", "smtp"
    source: str  # who talked, e.g. "esa1 CLI"
    endpoint: str  # where, e.g. "127.0.0.1:2222" or "https://host:443"
    request: str
    response: str
    started: datetime
    duration: float  # seconds
    status: str = ""  # "200", "ok", "error: ..."
    html: str = ""  # a web page's own markup (masked), for the report's screenshot; the response has its text

    def render(self) -> str:
        head = (f"--- {self.started:%H:%M:%S.%f}"[:-3] + f" {self.kind} {self.source} {self.endpoint}"
                f" ({self.duration * 1000:.0f} ms){' ' + self.status if self.status else ''}")
        return f"{head}\n>>> {self.request}\n<<< {self.response}\n"


class SecretRegistry:
    """Secret values known to this process. One registry for every transcript: a token that one
    driver learns (the SSE admin API generating it) is masked where another one shows it (the CLI
    echoing it as it is typed, an error message quoting it)."""

    def __init__(self) -> None:
        self._values: frozenset[str] = frozenset()  # replaced, never mutated: readers need no lock
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            for value in values:
                if value and len(value) >= MIN_SECRET_LEN and value not in self._values:
                    self._values = self._values | {value}
                    self._pattern = None

    def scrub(self, text: str) -> str:
        # Plain substring tests first: most texts hold no secret, and they are several times cheaper
        # than the regexes (this runs on every CLI round trip and HTTP exchange).
        lowered = text.lower()
        if "bearer" in lowered or "basic" in lowered:
            text = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {MASK}", text)
        with self._lock:
            if self._pattern is None and self._values:
                ordered = sorted(self._values, key=len, reverse=True)  # longest first: no partial leftovers
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            pattern, values = self._pattern, self._values
        if pattern is None or not any(value in text for value in values):
            return text
        return pattern.sub(MASK, text)


SECRETS = SecretRegistry()


def scrub(text: str) -> str:
    """``text`` without any secret this process knows (for exception messages, logs)."""
    return SECRETS.scrub(text)


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
    """Thread-safe, bounded list of masked exchanges with pluggable masking and sinks."""

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
        """Values that must never appear, whatever the pluggable mask knows (process-wide)."""
        SECRETS.add(*values)

    # ---- masking ------------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        return self.mask(SECRETS.scrub(text))

    # ---- recording ----------------------------------------------------------------------------
    def record(self, kind: str, source: str, endpoint: str, request: str, response: str,
               started: datetime | None = None, duration: float = 0.0, status: str = "", html: str = "") -> Exchange:
        entry = Exchange(kind=kind, source=source, endpoint=endpoint, request=self._clip(self.redact(request)),
                         response=self._clip(self.redact(response)), started=started or datetime.now(UTC),
                         duration=duration, status=status if status == "ok" else self.redact(status),
                         html=self.redact(html) if html else "")
        with self._lock:
            self._entries.append(entry)
            sinks = [*self._sinks, *_OBSERVERS]
        for sink in sinks:
            try:
                sink(entry)
            except Exception:  # a broken report attachment must not fail the scenario
                log.warning("transcript sink %r failed", sink, exc_info=True)
        return entry

    def _clip(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return text[: self.max_chars] + f"\n[... {len(text) - self.max_chars} more characters]"

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
