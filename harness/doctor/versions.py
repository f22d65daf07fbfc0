"""PRE-5: the AsyncOS version an appliance needs, read from the CLI's ``version``."""

from __future__ import annotations

from ..facts import MINIMUM_VERSION as MINIMUM
from ..facts import meets_minimum as verdict
from ..facts import version_from_cli as parse

__all__ = ["MINIMUM", "minimum_text", "parse", "verdict"]


def minimum_text(kind: str) -> str:
    return ".".join(map(str, MINIMUM.get(kind, MINIMUM["esa"])))
