"""PRE-5: the AsyncOS version an appliance needs, read from the CLI's ``version``."""

from __future__ import annotations

import re

_VERSION = re.compile(r"^\s*Version:\s*(\d+(?:\.\d+)*(?:-\d+)?)", re.MULTILINE)
MINIMUM = {"esa": (13, 0), "gateway": (13, 0), "sma": (12, 5)}
QUICK_START = (13, 0, 0, 314)  # the module quick start's "at least 13.0.0-314" (ESA)


def parse(text: str) -> str | None:
    """The ``Version:`` value of ``version`` output (``13.0.0-392``), if any."""
    m = _VERSION.search(text)
    return m.group(1) if m else None


def as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.split(r"[.-]", version) if p.isdigit())


def verdict(kind: str, version: str) -> tuple[bool, bool]:
    """(meets the minimum, meets the quick start's build too) for an appliance of ``kind``."""
    value = as_tuple(version)
    meets = value >= MINIMUM.get(kind, MINIMUM["esa"])
    return meets, kind == "sma" or value >= QUICK_START


def minimum_text(kind: str) -> str:
    return ".".join(map(str, MINIMUM.get(kind, MINIMUM["esa"])))
