"""Keeping the appliance password out of every log the wrapper writes.

The console is read in arbitrary chunks, so a password echoed by the guest may be split between two
reads; :class:`MaskedStream` holds back the shortest tail that could still grow into a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

MASK = "********"


class Masker:
    """Replaces every known secret in a text by :data:`MASK`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        # One-character "secrets" would mask half the log and protect nothing; longer ones first so a
        # secret that contains another is masked whole.
        if len(secret) >= 2 and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def unsafe_tail(self, text: str) -> int:
        """Length of the longest suffix of ``text`` that is a proper prefix of a secret."""
        longest = 0
        for secret in self._secrets:
            for size in range(min(len(secret) - 1, len(text)), longest, -1):
                if text.endswith(secret[:size]):
                    longest = size
                    break
        return longest


class MaskedStream:
    """A text sink (the console log) that never receives a secret, whatever the chunking."""

    def __init__(self, sink: TextIO, masker: Masker) -> None:
        self._sink = sink
        self._masker = masker
        self._pending = ""

    def write(self, chunk: str) -> None:
        text = self._masker(self._pending + chunk)
        hold = self._masker.unsafe_tail(text)
        self._pending = text[len(text) - hold:] if hold else ""
        out = text[: len(text) - hold]
        if out:
            self._sink.write(out)
            self._sink.flush()

    def close(self) -> None:
        # A held-back tail is at most a prefix of a secret: it is safer to mask it than to write it.
        if self._pending:
            self._sink.write(MASK)
            self._pending = ""
        self._sink.flush()
        self._sink.close()
