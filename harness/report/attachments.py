"""Attachments for the Allure report, masked: CLI transcripts, HTTP exchanges, JSON, files.

Drivers and steps call these helpers; they are no-ops when Allure is not recording (no ``--alluredir``)
and never raise: a report problem must not fail a scenario. The Allure writer masks again on the way to
disk (``allure_results.MaskingFileLogger``); masking here too keeps the helpers safe on their own.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

from .masking import current

log = logging.getLogger(__name__)


class _Exchange(Protocol):
    """What a driver's transcript entry offers (``harness.transcript.Exchange`` has it)."""

    kind: str
    source: str

    def render(self) -> str: ...


def _attach(body: str | bytes, name: str, kind: str, extension: str | None = None) -> None:
    try:
        import allure
    except ImportError:  # no Allure in this environment: nothing records attachments
        return
    try:
        attachment_type = getattr(allure.attachment_type, kind)
        allure.attach(body, name=current().mask(name), attachment_type=attachment_type, extension=extension)
    except Exception:  # never let reporting break a scenario
        log.warning("could not attach %r to the report", name, exc_info=True)


def attach_text(name: str, text: str) -> None:
    """Attach text (a CLI transcript, a page's visible text) to the current step or scenario."""
    _attach(current().mask(text), name, "TEXT")


def attach_png(name: str, data: bytes) -> None:
    """Attach an image (a screenshot of a masked page); the writer masks it byte-wise at the same length."""
    _attach(data, name, "PNG")


def attach_json(name: str, data: Any) -> None:
    """Attach a JSON document (an HTTP exchange, a device record); every string in it is masked."""
    body = json.dumps(current().mask_data(data), indent=2, ensure_ascii=False, default=str)
    _attach(body, name, "JSON")


def attach_file(name: str, path: str | Path, extension: str | None = None) -> None:
    """Attach a file (a pcap, a log); text is masked, binary data masked byte-wise at the same length."""
    from .allure_results import mask_attachment

    data = mask_attachment(Path(path).read_bytes())
    _attach(data, name, "PCAP" if Path(path).suffix == ".pcap" else "TEXT", extension)


def exchange_sink(exchange: _Exchange) -> None:
    """A transcript sink: attach each driver exchange as it happens, named "<kind> <source>"."""
    attach_text(f"{exchange.kind} {exchange.source}", exchange.render())
