"""One row of the diagnosis: an appliance, a check, its outcome, what was seen and the documents' remedy."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    FAIL = "FAIL"
    WARN = "warn"  # could not be checked here, or a soft finding: never fails the run
    SKIP = "skip"  # not checked because an earlier check of the same appliance failed


@dataclass(frozen=True)
class Row:
    appliance: str
    check: str
    refs: str  # the requirement IDs the check follows, e.g. "PRE-5"
    status: Status
    detail: str
    remedy: str = ""

    @property
    def ok(self) -> bool:
        """Only a failure fails the run (exit 1); warnings and skips are shown, not counted."""
        return self.status is not Status.FAIL
