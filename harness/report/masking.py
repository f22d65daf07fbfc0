"""Secret masking for everything the harness writes: reports, logs, junit XML, the terminal, transcripts.

The one masking mechanism of the harness. One :class:`Masker` per pytest session collects every secret
value (the testbed's passwords, API keys, tokens, client secrets, every ``%ENV``-resolved value, and
values drivers learn at run time such as registration and bearer tokens) in every form it takes (repr,
JSON, URL, shell and HTML escaping, Basic headers: :mod:`.secret_forms`) and replaces each occurrence by
``***``. The session's masker is the *current* one (:func:`current`), so drivers and helpers deep inside
them register and mask without being handed a session object; outside a session (``ctrlab`` commands)
a process-wide masker is current.

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
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from .matcher import PatternMatcher
from .secret_forms import MIN_SECRET_LEN, credential_forms, forms

if TYPE_CHECKING:
    from ..testbed import Testbed

MASK = "***"
log = logging.getLogger(__name__)
# An Authorization credential in free text (a CLI echoing a header, an error quoting a request).
_CREDENTIAL = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_CREDENTIAL_HINTS = ("earer", "EARER", "asic", "ASIC")  # str.find is far cheaper than the regex


class Masker:
    """A thread-safe, growing set of secret values and the functions that hide them.

    Each value is registered with every form it takes on the way out (:mod:`.secret_forms`), and all
    forms of all values are found in one pass over a text (:mod:`.matcher`): masking costs time in
    proportion to the text, not to the number of secrets a run has seen.
    """

    def __init__(self, placeholder: str = MASK) -> None:
        self.placeholder = placeholder
        self._matcher = PatternMatcher()
        self._bytes: tuple[int, Any] | None = None  # (pattern count, automaton) for mask_bytes, built on use
        self._too_short: set[str] = set()
        self._expanded: set[tuple[str | None, str]] = set()  # (user, value) pairs already registered
        self._lock = threading.Lock()

    # ---- collecting -----------------------------------------------------------------------------------
    def add(self, *values: str | None) -> None:
        """Register secret values with their escaped forms (``None`` and empty values are ignored)."""
        self._register(forms, ((None, v) for v in values))

    def add_credentials(self, username: str | None, password: str | None) -> None:
        """A password and, the user being known, the ``Authorization: Basic`` value of the pair."""
        self._register(credential_forms, [(username, password)])

    def add_testbed(self, testbed: Testbed) -> None:
        """Every secret of a testbed: passwords (with their Basic headers), keys, tokens, ``%ENV`` values."""
        from urllib.parse import urlsplit

        self.add(*testbed.secrets())
        # A device's credentials already hold what they inherit: the pairs the appliance is sent.
        for cred in [*testbed.testbed.credentials.values(),
                     *(c for d in testbed.devices.values() for c in d.credentials.values())]:
            self.add_credentials(cred.username, cred.password)
        for ctr in testbed.cloud.ctr.values():  # OAuth2 client credentials travel as Basic client_id:secret
            self.add_credentials(ctr.client_id, ctr.client_secret)
        if testbed.network.proxy:
            proxy = urlsplit(testbed.network.proxy)
            self.add_credentials(proxy.username, proxy.password)

    def update(self, values: Iterable[str | None]) -> None:
        self.add(*values)

    def _register(self, expand: Callable[..., set[str]], pairs: Iterable[tuple[str | None, str | None]]) -> None:
        patterns: list[str] = []
        for username, value in pairs:
            if not isinstance(value, str) or not value or (username, value) in self._expanded:
                continue  # drivers register the same token with every request that carries it
            if len(value) < MIN_SECRET_LEN:
                self._warn_short(value)
                continue
            found = expand(value) if username is None else expand(username, value)
            patterns += [p for p in found if len(p) >= MIN_SECRET_LEN]
            self._expanded.add((username, value))
        if patterns:
            self._matcher.add(patterns)

    def _warn_short(self, value: str) -> None:
        with self._lock:
            if value in self._too_short:
                return
            self._too_short.add(value)
        log.warning("a secret of %d characters is too short to mask (the minimum is %d): it may appear in "
                    "reports and logs", len(value), MIN_SECRET_LEN)

    def __len__(self) -> int:
        return len(self._matcher)

    def __contains__(self, value: object) -> bool:
        return value in self._matcher

    # ---- masking --------------------------------------------------------------------------------------
    def mask(self, text: str) -> str:
        if not isinstance(text, str) or not text:
            return text
        spans = self._matcher.spans(text)
        if not spans:
            return text
        parts: list[str] = []
        last = 0
        for start, end in spans:
            parts += (text[last:start], self.placeholder)
            last = end
        parts.append(text[last:])
        return "".join(parts)

    __call__ = mask

    def scrub(self, text: str) -> str:
        """:meth:`mask`, and ``Bearer``/``Basic`` credentials the masker has not been told about
        (for transcripts and the error messages drivers raise)."""
        text = self.mask(text)
        if any(hint in text for hint in _CREDENTIAL_HINTS):
            text = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {self.placeholder}", text)
        return text

    def mask_bytes(self, data: bytes) -> bytes:
        """Same-length masking for binary data (a pcap keeps its framing; the secret becomes ``*``)."""
        import ahocorasick_rs

        with self._lock:
            if self._bytes is None or self._bytes[0] != len(self._matcher):
                encoded = list(dict.fromkeys(p.encode("utf-8") for p in self._matcher.patterns()))
                self._bytes = (len(self._matcher), ahocorasick_rs.BytesAhoCorasick(encoded) if encoded else None)
            automaton = self._bytes[1]
        if automaton is None:
            return data
        masked = bytearray(data)
        for _, start, end in automaton.find_matches_as_indexes(data, overlapping=True):
            masked[start:end] = b"*" * (end - start)
        return bytes(masked)

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
        """The registered forms present in ``text`` (for self-checks and tests)."""
        return sorted({pattern for pattern, _ in self._matcher.find(text)})


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


def scrub(text: str) -> str:
    """:meth:`Masker.scrub` with the current masker: for transcripts and driver error messages."""
    return current().scrub(text)


def add_secret(*values: str | None) -> None:
    """Register run-time secrets (registration tokens, bearer tokens) with the current session."""
    current().add(*values)


def add_credentials(username: str | None, password: str | None) -> None:
    """Register a password and the ``Authorization: Basic`` value of ``username:password``."""
    current().add_credentials(username, password)


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
    # Marked per masker: a nested session's masker must still mask what the outer one already did.
    masked_by: tuple[Masker, ...] = getattr(record, "_ctrlab_masked_by", ())
    if any(m is masker for m in masked_by) or not len(masker):
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
    record._ctrlab_masked_by = (*masked_by, masker)  # type: ignore[attr-defined]
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
