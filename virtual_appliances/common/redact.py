"""Secret redaction for everything a simulator logs or returns in its request log.

Simulators register every secret they create or accept (passwords, registration tokens, client
secrets, bearer tokens) and every log line passes through :func:`Redactor.text` first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "***"
MIN_SECRET = 4  # shorter values are too ambiguous to mask
SECRET_KEYS = re.compile(
    r"(pass(word|phrase)?|secret|token|authorization|api[_-]?key|jwt|credential)", re.IGNORECASE
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


class Redactor:
    """Masks known secret values wherever they occur in a string.

    A long-running lab mints thousands of tokens, so secrets are indexed by their first characters:
    adding one is O(1) and scrubbing is one pass over the text, whatever the number of secrets.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # prefix -> {length: secrets}; many secrets share a prefix (every JWT starts "eyJ..."), so a
        # candidate position is checked with one set lookup per distinct length, not one per secret.
        self._by_prefix: dict[str, dict[int, set[str]]] = {}
        self._lock = threading.Lock()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < MIN_SECRET:
            return
        with self._lock:
            by_length = self._by_prefix.setdefault(secret[:MIN_SECRET], {})
            if len(secret) not in by_length:
                # longest first, so a secret that contains another is masked whole
                by_length = dict(sorted({**by_length, len(secret): set()}.items(), reverse=True))
                self._by_prefix[secret[:MIN_SECRET]] = by_length
            by_length[len(secret)].add(secret)

    def text(self, value: str) -> str:
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        index = self._by_prefix
        if not index or len(value) < MIN_SECRET:
            return value
        out: list[str] = []
        start = i = 0
        end = len(value) - MIN_SECRET + 1
        while i < end:
            by_length = index.get(value[i:i + MIN_SECRET])
            length = next((n for n, found in by_length.items() if value[i:i + n] in found), 0) if by_length else 0
            if not length:
                i += 1
                continue
            out += [value[start:i], MASK]
            i = start = i + length
        out.append(value[start:])
        return "".join(out)

    def data(self, value: Any) -> Any:
        """Redact a JSON-like structure: secret-named keys are masked, every string is scrubbed."""
        if isinstance(value, dict):
            return {
                k: (MASK if isinstance(k, str) and SECRET_KEYS.search(k) and v else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value
