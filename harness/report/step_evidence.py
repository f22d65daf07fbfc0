"""What happened during a failing step, attached to that step: CLI dialog, HTTP exchanges, the GUI page.

Every driver records its exchanges in a :class:`harness.transcript.Transcript`; this collector observes
all of them (``harness.transcript.observe``), whatever backend or testbed the run uses, and files each
exchange under the Gherkin step that was running. When a step fails it attaches, to that step:

* ``CLI dialog``: the SSH CLI commands and answers (``cli``, ``ssh-exec``),
* ``HTTP exchanges``: REST and cloud API requests and responses (SSE, Threat Response, AsyncOS API),
* ``GUI exchanges``: the web GUI's requests and the pages' text,
* ``SMTP session``: test mail,
* ``GUI page (text)`` and ``GUI page (screenshot)``: the last page the GUI showed in the scenario, as
  text and, where a headless Chromium is installed, as a PNG.

A step that failed without talking to the lab (``Then the CLI output contains ...`` checks what an
earlier step received) gets the exchanges of the last step that had any, named after that step.
Everything is masked: by the transcript on the way in, by :func:`harness.report.masking.mask` here,
and by the Allure writer on the way to disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .masking import mask

CLI_KINDS = ("cli", "ssh-exec")
GUI_SUFFIX = " GUI"  # drivers name their source "<device> GUI" (harness/appliance/gui.py)


@dataclass
class _Step:
    name: str
    exchanges: list[Any] = field(default_factory=list)


class StepEvidence:
    """Per scenario: each step's exchanges, and the GUI's last page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: list[_Step] = []
        self._last_page: Any | None = None
        self._undo: Callable[[], None] | None = None

    def install(self) -> Callable[[], None]:
        from ..transcript import observe

        self._undo = observe(self._see)
        return self.uninstall

    def uninstall(self) -> None:
        if self._undo is not None:
            self._undo()
            self._undo = None

    def _see(self, exchange: Any) -> None:
        with self._lock:
            if self._steps:
                self._steps[-1].exchanges.append(exchange)
            if exchange.kind == "http" and exchange.source.endswith(GUI_SUFFIX) and getattr(exchange, "html", ""):
                self._last_page = exchange

    def start_scenario(self) -> None:
        with self._lock:
            self._steps, self._last_page = [], None

    def start_step(self, name: str) -> None:
        with self._lock:
            self._steps.append(_Step(name))

    def evidence(self) -> tuple[str, list[Any], Any | None]:
        """(whose exchanges, the exchanges, the GUI's last page) for the step that is failing."""
        with self._lock:
            if not self._steps:
                return "", [], self._last_page
            current = self._steps[-1]
            source = current if current.exchanges else next(
                (s for s in reversed(self._steps[:-1]) if s.exchanges), current)
            return ("" if source is current else source.name), list(source.exchanges), self._last_page


def _render(exchanges: list[Any]) -> str:
    return "\n".join(e.render() for e in exchanges)


def attach_failing_step(evidence: StepEvidence, screenshots: bool = True) -> list[str]:
    """Attach the evidence to the open Allure step; returns the attachment names (for tests and logs)."""
    from .attachments import attach_png, attach_text

    earlier, exchanges, page = evidence.evidence()
    suffix = f" (from the step: {earlier})" if earlier else ""
    groups = [
        ("CLI dialog", [e for e in exchanges if e.kind in CLI_KINDS]),
        ("HTTP exchanges", [e for e in exchanges if e.kind == "http" and not e.source.endswith(GUI_SUFFIX)]),
        ("GUI exchanges", [e for e in exchanges if e.kind == "http" and e.source.endswith(GUI_SUFFIX)]),
        ("SMTP session", [e for e in exchanges if e.kind == "smtp"]),
    ]
    names: list[str] = []
    for name, group in groups:
        if group:
            attach_text(name + suffix, _render(group))
            names.append(name + suffix)
    if page is not None:
        head, _, text = page.response.partition("\n\n")
        title = f"GUI page (text): {page.source} {head.splitlines()[0] if head else ''}".rstrip()
        attach_text(title, text or page.response)
        names.append(title)
        if screenshots:
            from .screenshot import screenshot

            png = screenshot(mask(page.html))
            if png is not None:
                attach_png(f"GUI page (screenshot): {page.source}", png)
                names.append(f"GUI page (screenshot): {page.source}")
    return names
