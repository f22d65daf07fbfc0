"""Network > Cloud Service Settings, read once for everybody: the steps, the doctor and the settings keeper.

The page's rows are found by their labels (``harness.facts.CLOUD_PAGE``, tried in order so that every
release line and product reads the same way); a testbed may name other labels in
``deviations.cloud_page_labels`` for a release whose page differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..facts import CLOUD_PAGE, REGION_OF_SERVER, REGISTERED, REGISTRATION_FAILED, SETTLING, CloudPageLabels
from .page import Page


@dataclass(frozen=True)
class CloudSettingsView:
    """What the page shows, as a person reads it."""

    enabled: str  # the feature row ("Enabled" / "Disabled"), "" when absent
    server: str  # the server row, e.g. "AMERICAS (api-sse.cisco.com)"; "" when absent
    status: str  # the "Status:" row; "" when the token field is shown instead
    token_field: bool  # a Registration Token field and a Register button
    deregister_button: bool
    feature_label: str | None = None  # which label the page used for the feature row
    server_label: str | None = None
    text: str = field(default="", repr=False)

    @property
    def is_enabled(self) -> bool:
        return self.enabled.strip().lower() == "enabled"

    @property
    def registered(self) -> bool:
        return REGISTERED in self.status

    @property
    def failed(self) -> bool:
        return REGISTRATION_FAILED in self.status.lower()

    @property
    def in_progress(self) -> bool:
        return any(word in self.status for word in SETTLING)

    @property
    def server_choice(self) -> str | None:
        """"AMERICAS" of "AMERICAS (api-sse.cisco.com)"; None when no server is chosen."""
        word = self.server.split(" ", 1)[0].strip().upper() if self.server else ""
        return word if word and "NO SERVER" not in self.server.upper() else None

    @property
    def region(self) -> str | None:
        return REGION_OF_SERVER.get(self.server_choice or "")

    def describe(self) -> str:
        parts = [f"{self.feature_label or 'Threat Response'}: {self.enabled or '(no row)'}",
                 f"Server: {self.server or '(no row)'}", f"Status: {self.status or '(none)'}",
                 "Registration Token field shown" if self.token_field else "no Registration Token field"]
        if self.deregister_button:
            parts.append("Deregister button shown")
        return "; ".join(parts)


def labels_for(deviations: Mapping[str, Any] | None) -> CloudPageLabels:
    """The default labels, with a testbed's ``deviations.cloud_page_labels`` tried first."""
    extra = (deviations or {}).get("cloud_page_labels") or {}
    if not extra:
        return CLOUD_PAGE
    changes: dict[str, Any] = {}
    for name in ("feature", "server", "status"):
        mine = extra.get(name)
        if mine:
            mine = (mine,) if isinstance(mine, str) else tuple(mine)
            changes[name] = (*mine, *getattr(CLOUD_PAGE, name))
    for name in ("token_field", "register_button", "deregister_button"):
        if extra.get(name):
            changes[name] = str(extra[name])
    return replace(CLOUD_PAGE, **changes)


def _first(page: Page, labels: tuple[str, ...]) -> tuple[str | None, str]:
    for label in labels:
        value = page.value(label)
        if value:
            return label, value
    return None, ""


def read_cloud_page(page: Page, labels: CloudPageLabels = CLOUD_PAGE) -> CloudSettingsView:
    feature_label, enabled = _first(page, labels.feature)
    server_label, server = _first(page, labels.server)
    _, status = _first(page, labels.status)
    form = page.form_with(labels.register_button)
    token_field = form is not None and page.button(labels.register_button) is not None and any(
        f.kind in ("text", "password") for f in form.fields)
    return CloudSettingsView(enabled=enabled, server=server, status=status, token_field=token_field,
                             deregister_button=page.button(labels.deregister_button) is not None,
                             feature_label=feature_label, server_label=server_label, text=page.text)
