"""PRE-5: the AsyncOS version an appliance needs, read from the CLI's ``version``."""

from __future__ import annotations

import re

_VERSION = re.compile(r"^\s*Version:\s*(\d+(?:\.\d+)*(?:-\d+)?)", re.MULTILINE)
# PRE-5 (seeds 002/004): direct ESA 13.0, SMA 12.5. The documents give the gateways no number of their own: an
# email gateway integrates directly with the Email Security Appliance module (seed 001), as an ESA does.
MINIMUM = {"esa": (13, 0), "gateway": (13, 0), "sma": (12, 5)}
QUICK_START = (13, 0, 0, 314)  # the ESA module quick start's "at least 13.0.0-314" (ESA and email gateway)


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
    return meets, kind == "sma" or value >= QUICK_START  # PRE-5: 12.5 for an SMA; 13.0.0-314 is the ESA module's


def minimum_text(kind: str) -> str:
    return ".".join(map(str, MINIMUM.get(kind, MINIMUM["esa"])))
