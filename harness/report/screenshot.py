"""A PNG of a web page's masked markup, rendered by a headless Chromium when one is installed.

The page is the markup the GUI driver received (already masked: :func:`harness.report.masking.mask`
runs again here), rendered from a file with a content security policy that forbids every fetch: no
request leaves the browser, whatever the page links to (on real gear it would link to the appliance).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .masking import mask

log = logging.getLogger(__name__)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 30
WINDOW = "1280,1000"
_OFFLINE_POLICY = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                   "style-src 'unsafe-inline'; img-src data:\">")
_BASE = re.compile(r"<base\b[^>]*>", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def offline(html: str) -> str:
    """The page with no base URL, no scripts and a policy that blocks every fetch."""
    html = _SCRIPT.sub("", _BASE.sub("", mask(html)))
    match = _HEAD.search(html)
    if match is None:
        return f"<!doctype html><html><head>{_OFFLINE_POLICY}</head><body>{html}</body></html>"
    return html[: match.end()] + _OFFLINE_POLICY + html[match.end():]


def screenshot(html: str, timeout: float = TIMEOUT_S) -> bytes | None:
    """PNG bytes of the page, or None without a browser (or when it fails: a report must not fail a test)."""
    exe = browser()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="ctrlab-shot-") as folder:
        page, png = Path(folder) / "page.html", Path(folder) / "page.png"
        page.write_text(offline(html), encoding="utf-8")
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
               "--disable-background-networking", "--disable-component-update", "--proxy-server=127.0.0.1:9",
               f"--user-data-dir={Path(folder) / 'profile'}", f"--window-size={WINDOW}", f"--screenshot={png}",
               page.as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            log.warning("no screenshot: %s did not render the page in %s s", exe, timeout, exc_info=True)
            return None
        data = png.read_bytes() if png.is_file() else b""
    return data if data.startswith(b"\x89PNG") else None
