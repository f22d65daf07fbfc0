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
SECRET_KEYS = re.compile(
    r"(pass(word|phrase)?|secret|token|authorization|api[_-]?key|jwt|credential)", re.IGNORECASE
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Remember a secret value; values shorter than 4 characters are too ambiguous to mask."""
        if not secret or len(secret) < 4:
            return
        with self._lock:
            if secret not in self._secrets:
                self._secrets.add(secret)
                self._pattern = None

    def text(self, value: str) -> str:
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        pattern = self._compiled()
        return pattern.sub(MASK, value) if pattern else value

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

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._secrets:
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in ordered))
            return self._pattern
