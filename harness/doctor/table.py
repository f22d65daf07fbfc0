"""The diagnosis as a plain-text table (one row per appliance and check), remedies under it."""

from __future__ import annotations

from collections.abc import Sequence

from .result import Row, Status

HEADER = ("appliance", "check", "refs", "status", "detail")
MAX_DETAIL = 110


def render(rows: Sequence[Row]) -> str:
    cells = [HEADER] + [(r.appliance, r.check, r.refs, str(r.status), _clip(r.detail)) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER) - 1)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(widths))) + "  " + c[-1] for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len(HEADER[-1]))
    fixes = [r for r in rows if r.remedy and r.status in (Status.FAIL, Status.WARN)]
    if fixes:
        lines += ["", "remedies:"]
        for r in fixes:  # the whole detail here: the table clips it
            lines += [f"  {r.appliance} {r.check} [{r.status}]: {r.detail}", f"      remedy: {r.remedy}"]
    failed = sum(r.status is Status.FAIL for r in rows)
    warned = sum(r.status is Status.WARN for r in rows)
    lines += ["", f"{len(rows)} checks: {failed} failed, {warned} warnings"
              + (" - all pass" if not failed else "")]
    return "\n".join(lines)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL - 3] + "..."
