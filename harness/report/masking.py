"""Secret masking for everything the harness writes: reports, logs, junit XML and the terminal.

One :class:`Masker` per pytest session collects every secret value (the testbed's passwords, API keys,
tokens, client secrets, every ``%ENV``-resolved value, and values registered at run time such as
registration tokens) and replaces each occurrence by ``***``. The session's masker is the *current* one
(:func:`current`), so helpers called deep inside drivers mask without being handed a session object.

Where it is applied (see ``harness/plugin.py``):

* log records, at creation (:func:`install_log_masking`): a filter on the root logger would not see
  records of child loggers that propagate to it, so the record factory masks the message instead,
* test reports: ``longrepr`` (assertion messages, tracebacks, locals) and captured output sections,
  before the terminal, junit XML and Allure read them (:func:`mask_report`),
* the terminal writer itself (:class:`MaskingStream`), and ``sys.stdout`` / ``sys.stderr`` with ``-s``,
* Allure results and attachments, at the file writer (``harness/report/allure_results.py``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET_LEN = 4  # shorter values would mask ordinary words; the testbed's are all longer in practice


class Masker:
    """A thread-safe set of secret values and the functions that hide them."""

    def __init__(self, placeholder: str = MASK) -> None:
        self.placeholder = placeholder
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._bytes_pattern: re.Pattern[bytes] | None = None
        self._lock = threading.Lock()

    # ---- collecting -----------------------------------------------------------------------------------
    def add(self, *values: str | None) -> None:
        """Register secret values (``None`` and values shorter than 4 characters are ignored).

        The encodings a secret takes on the way out are registered with it: URL-encoded (forms, query
        strings), JSON-escaped and HTML-escaped.
        """
        with self._lock:
            before = len(self._secrets)
            for value in values:
                if not isinstance(value, str) or len(value) < MIN_SECRET_LEN:
                    continue
                self._secrets.update(v for v in _variants(value) if len(v) >= MIN_SECRET_LEN)
            if len(self._secrets) != before:
                self._pattern = self._bytes_pattern = None

    def update(self, values: Iterable[str | None]) -> None:
        self.add(*values)

    def __len__(self) -> int:
        return len(self._secrets)

    def __contains__(self, value: object) -> bool:
        return value in self._secrets

    # ---- masking --------------------------------------------------------------------------------------
    def _text_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._secrets:
                ordered = sorted(self._secrets, key=len, reverse=True)  # longest first: no partial leftovers
                self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            return self._pattern

    def mask(self, text: str) -> str:
        pattern = self._text_pattern()
        if pattern is None or not isinstance(text, str):
            return text
        return pattern.sub(self.placeholder, text)

    __call__ = mask

    def mask_bytes(self, data: bytes) -> bytes:
        """Same-length masking for binary data (a pcap keeps its framing; the secret becomes ``*``)."""
        with self._lock:
            if self._bytes_pattern is None and self._secrets:
                encoded = sorted({s.encode("utf-8") for s in self._secrets}, key=len, reverse=True)
                self._bytes_pattern = re.compile(b"|".join(re.escape(s) for s in encoded))
            pattern = self._bytes_pattern
        if pattern is None:
            return data
        return pattern.sub(lambda m: b"*" * len(m.group(0)), data)

    def mask_data(self, value: Any) -> Any:
        """Mask every string inside a JSON-like structure (dict keys included)."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {self.mask_data(k): self.mask_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.mask_data(v) for v in value)
        return value

    def leaks(self, text: str) -> list[str]:
        """The registered secrets present in ``text`` (for self-checks and tests)."""
        return sorted(s for s in self._secrets if s in text)


def _variants(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1], html.escape(value)}


# ---- the session's masker ------------------------------------------------------------------------------
_STACK: list[Masker] = []
_FALLBACK = Masker()


def current() -> Masker:
    """The masker of the running session (a nested pytester session pushes its own)."""
    return _STACK[-1] if _STACK else _FALLBACK


def push(masker: Masker) -> None:
    _STACK.append(masker)


def pop(masker: Masker) -> None:
    if masker in _STACK:
        _STACK.remove(masker)


def mask(text: str) -> str:
    return current().mask(text)


def add_secret(*values: str | None) -> None:
    """Register run-time secrets (registration tokens, bearer tokens) with the current session."""
    current().add(*values)


# ---- logging -------------------------------------------------------------------------------------------
class MaskingFilter(logging.Filter):
    """A filter for handlers (pytest's own, or a driver's file handler): masks the record in place."""

    def __init__(self, masker: Callable[[], Masker] = current) -> None:
        super().__init__()
        self._masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record, self._masker())
        return True


def mask_record(record: logging.LogRecord, masker: Masker) -> logging.LogRecord:
    if getattr(record, "_ctrlab_masked", False) or not len(masker):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call: leave it to logging's own error path
        return record
    record.msg, record.args = masker.mask(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = masker.mask(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = masker.mask(record.exc_text)
    if record.stack_info:
        record.stack_info = masker.mask(record.stack_info)
    record._ctrlab_masked = True  # type: ignore[attr-defined]
    return record


@contextmanager
def log_masking(masker: Callable[[], Masker] = current) -> Iterator[None]:
    """Mask every log record at creation, whichever logger and handler it goes to, while active."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs), masker())

    logging.setLogRecordFactory(factory)
    root_filter = MaskingFilter(masker)
    logging.getLogger().addFilter(root_filter)  # records logged on the root logger itself
    try:
        yield
    finally:
        logging.getLogger().removeFilter(root_filter)
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)


# ---- streams -------------------------------------------------------------------------------------------
class MaskingStream:
    """A text stream proxy that masks what is written (terminal writer, ``sys.stdout`` with ``-s``)."""

    def __init__(self, stream: TextIO, masker: Callable[[], Masker] = current) -> None:
        self._stream = stream
        self._masker = masker

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def write(self, text: str) -> int:
        self._stream.write(self._masker().mask(text))
        return len(text)  # callers count what they handed over

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


# ---- pytest reports ------------------------------------------------------------------------------------
def mask_object(value: Any, masker: Masker, _seen: set[int] | None = None) -> Any:
    """Mask every string reachable from ``value`` in place where possible; returns the masked value.

    Used on pytest's ``longrepr`` objects (exception chains, traceback entries, locals, crash messages):
    masking them in place keeps their structure, so the terminal, junit XML and Allure still get the
    usual rendering, only without secrets.
    """
    seen = _seen if _seen is not None else set()
    if isinstance(value, str):
        return masker.mask(value)
    if value is None or isinstance(value, int | float | bool | bytes) or id(value) in seen:
        return value
    seen.add(id(value))
    if isinstance(value, list):
        value[:] = [mask_object(v, masker, seen) for v in value]
        return value
    if isinstance(value, tuple):
        items = [mask_object(v, masker, seen) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        for key in list(value):
            value[key] = mask_object(value[key], masker, seen)
        return value
    attrs: dict[str, Any] | None = getattr(value, "__dict__", None)
    names = [f.name for f in dataclasses.fields(value)] if dataclasses.is_dataclass(value) else list(attrs or ())
    for name in names:
        try:
            current_value = getattr(value, name)
            masked = mask_object(current_value, masker, seen)
            if masked is not current_value:
                object.__setattr__(value, name, masked)
        except (AttributeError, TypeError):
            continue
    return value


def mask_report(report: Any, masker: Masker) -> None:
    """Mask a pytest ``TestReport`` / ``CollectReport``: longrepr and captured output sections."""
    if not len(masker):
        return
    longrepr = getattr(report, "longrepr", None)
    if longrepr is not None:
        try:
            report.longrepr = mask_object(longrepr, masker)
        except Exception:  # an unknown longrepr shape: fall back to its masked text
            report.longrepr = masker.mask(str(longrepr))
        if not isinstance(report.longrepr, str | tuple) and masker.leaks(_render(report.longrepr)):
            report.longrepr = masker.mask(_render(report.longrepr))
    sections = getattr(report, "sections", None)
    if sections:
        report.sections = [(masker.mask(title), masker.mask(content)) for title, content in sections]


def _render(longrepr: Any) -> str:
    try:
        return str(longrepr)
    except Exception:
        return ""
