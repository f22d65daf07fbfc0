"""The outcome of one probe (DNS, TCP, SYN, TLS, proxy) for one FQDN."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

# Probe states. Kept as plain strings: they go into tables and JSON as they are.
ANSWER, NXDOMAIN, NODATA = "answer", "NXDOMAIN", "no A record"
OPEN, REFUSED, TIMEOUT, ERROR, SKIPPED = "open", "refused", "timeout", "error", "skipped"
CLOSED, FILTERED, UNAVAILABLE = "closed", "filtered", "unavailable"
VERIFIED, INTERCEPTED, FAILED = "verified", "intercepted", "failed"
TUNNEL, DENIED, UNREACHABLE = "tunnel", "denied", "unreachable"


@dataclass
class Probe:
    state: str
    detail: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return max(0.0, self.ended - self.started)

    def cell(self) -> str:
        """Short text for the table: the state, plus the time it took when it waited for something."""
        if self.state in (SKIPPED, UNAVAILABLE):
            return "-"
        return f"{self.state} ({_duration(self.seconds)})"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Probe:
        """A probe as ``to_dict`` wrote it; only its duration survives, from 0."""
        return cls(str(data["state"]), str(data.get("detail", "")), 0.0, float(data.get("seconds", 0.0)))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 4)
        data.pop("started")
        data.pop("ended")
        return data


def skipped(reason: str) -> Probe:
    return Probe(SKIPPED, reason)


def finish(state: str, detail: str, started: float) -> Probe:
    return Probe(state, detail, started, time.monotonic())


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
