"""The per-appliance checks, in the documents' order: version, enable committed, registration, module,
investigation. Each only reads; each returns a Row. Facts one check learns (the SSE device id, the
module instance) are kept on the :class:`Subject` for the next."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..appliance import Page, TrackingRecord
from ..polling import PollTimeout, poll_until
from ..testbed import Device
from . import remedies, versions
from .clients import Clients
from .result import Row, Status

FEATURE_LABELS = ("Threat Response", "Cloud Service", "Cisco Cloud Services")  # ESA/SMA; gateway variants
SERVER_LABELS = ("Threat Response Server", "SecureX Server", "Cisco Secure Server")
REGISTERED = "successfully registered"
SETTLING = ("in progress", "is busy")  # states that end by themselves "after a few minutes"
SERVER_REGION = {"AMERICAS": "nam", "EUROPE": "eu", "APJC": "apjc"}


@dataclass
class Subject:
    """One appliance under diagnosis, and what the checks learned about it so far."""

    name: str
    device: Device
    region: str
    clients: Clients
    wait: float  # seconds to wait for a registration in progress to settle
    interval: float
    progress: Callable[[str], None]
    page: Page | None = None
    device_id: str | None = None
    module_id: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def row(self, check: str, refs: str, status: Status, detail: str, remedy: str = "") -> Row:
        return Row(self.name, check, refs, status, detail, remedy if status in (Status.FAIL, Status.WARN) else "")


def version(s: Subject) -> Row:
    check, refs = "version", "PRE-5"
    text = s.clients.cli(s.name).run("version")
    found = versions.parse(text)
    if found is None:
        return s.row(check, refs, Status.FAIL, "the CLI's version output has no 'Version:' line", remedies.PRE_5)
    meets, quick_start = versions.verdict(s.device.kind, found)
    need = versions.minimum_text(s.device.kind)
    if not meets:
        return s.row(check, refs, Status.FAIL, f"AsyncOS {found} on this {s.device.kind.upper()}: needs {need} or "
                     "later", remedies.PRE_5)
    if not quick_start:
        return s.row(check, refs, Status.WARN, f"AsyncOS {found}: the module quick start asks for at least "
                     "13.0.0-314", remedies.PRE_5)
    return s.row(check, refs, Status.PASS, f"AsyncOS {found} (needs {need} or later)")


def _cloud_page(s: Subject) -> Page:
    s.page = s.clients.gui(s.name).cloud_service_settings()
    return s.page


def _first_value(page: Page, labels: tuple[str, ...]) -> str | None:
    return next((v for label in labels if (v := page.value(label)) is not None), None)


def enable_committed(s: Subject) -> Row:
    check, refs = "enable committed", "ENA-2/TS-3"
    page = _cloud_page(s)
    state = _first_value(page, FEATURE_LABELS)
    # The header shows "Commit Changes" while something is staged and not committed (ENA-5).
    pending = page.button("Commit Changes") is not None
    if state is None:
        return s.row(check, refs, Status.FAIL, f"Cloud Service Settings shows no Threat Response row "
                     f"(labels: {page.labels()})", remedies.ENA_2)
    if state.strip().casefold() == "enabled" and not pending:
        server = _first_value(page, SERVER_LABELS) or "?"
        return s.row(check, refs, Status.PASS, f"Threat Response: Enabled, server {server}, no uncommitted changes")
    if pending:
        return s.row(check, refs, Status.FAIL, f"Threat Response: {state} (committed) and uncommitted changes are "
                     "pending ('Commit Changes' shown): the appliance will not ask for a token", remedies.TS_3)
    return s.row(check, refs, Status.FAIL, f"Threat Response: {state}", remedies.ENA_2)


def _status_text(page: Page) -> str:
    status = page.value("Status")
    if status:
        return " ".join(status.split())
    if page.form_with("Register") is not None:
        return "not registered: the page asks for a Registration Token"
    return "no registration status on the page"


def _settled_status(s: Subject) -> str:
    status = _status_text(s.page or _cloud_page(s))
    if not any(word in status for word in SETTLING):
        return status
    s.progress(f"{s.name}: waiting up to {s.wait:g} s for the registration to settle ({status[:60]})")
    try:
        return poll_until(lambda: _status_text(_cloud_page(s)), s.wait, interval=s.interval,
                          describe="the registration to settle",
                          accept=lambda text: not any(word in text for word in SETTLING))
    except PollTimeout:
        return _status_text(s.page) if s.page else status


def registration(s: Subject) -> Row:
    check, refs = "registration", "REG-5/VER-1/TS-4"
    status = _settled_status(s)
    if REGISTERED not in status:
        remedy = remedies.ts_4(s.region)
        if "Enable the Cloud Services" in status:  # ENA-1: nothing to register yet
            remedy = f"{remedies.ENA_2}; then register (REG-2) | {remedies.TS_3}"
        elif "could not connect" in status:
            remedy = "PRE-3/PRE-4: open HTTPS 443 to the region's FQDNs (see the firewall row); then " + remedy
        return s.row(check, refs, Status.FAIL, f"status: {status}", remedy)
    server = _first_value(s.page, SERVER_LABELS) if s.page else None
    where = _server_region(server)
    listed = _sse_device(s)
    if listed is None:
        return s.row(check, refs, Status.WARN, f"{status} (SSE device list not checkable: no SSE admin API or "
                     f"Threat Response device list for {s.region})", remedies.TS_1_UNCHECKABLE)
    if not listed:
        hint = f"; the appliance's server is {server}" if where and where != s.region else ""
        return s.row(check, refs, Status.FAIL, f"registered on the appliance, but {s.device.hostname} is absent from "
                     f"the {s.region} SSE device list{hint}", remedies.wrong_region(s.region) + " | "
                     + remedies.ts_4(s.region))
    state = str(listed.get("status", ""))
    if state != "Registered":
        return s.row(check, refs, Status.FAIL, f"SSE lists {s.device.hostname} as {state!r}", remedies.ts_4(s.region))
    s.device_id = str(listed.get("id", ""))
    return s.row(check, refs, Status.PASS, f"successfully registered; SSE ({s.region}) lists it as Registered, "
                 f"ID {s.device_id}")


def _server_region(label: str | None) -> str | None:
    word = (label or "").split(" ")[0].upper()
    return SERVER_REGION.get(word)


def _sse_device(s: Subject) -> dict[str, Any] | None:
    """The appliance's record in the region's SSE ({} when absent; None when there is no way to look)."""
    sse = s.clients.sse(s.region)
    if sse is not None:
        return sse.find_device(s.device.hostname) or {}
    ctr = s.clients.ctr(s.region)
    if ctr is None:
        return None
    # No admin API (a real tenant): Threat Response's list of the devices SSE shares with it (VER-2).
    return next((d for d in ctr.devices() if d.get("name") == s.device.hostname), {})


def module(s: Subject) -> Row:
    check, refs = "module", "VER-3/TS-1"
    if not s.device_id:
        return s.row(check, refs, Status.SKIP, "not checked: the SSE device ID is not known (see registration)")
    ctr = s.clients.ctr(s.region)
    if ctr is None:
        return s.row(check, refs, Status.WARN, f"not checkable: no Threat Response client for {s.region} in the "
                     "testbed", remedies.VER_3)
    found = [m for m in ctr.module_instances()
             if str((m.get("settings") or {}).get("registered_device", "")) == s.device_id]
    if not found:
        return s.row(check, refs, Status.FAIL, f"no module instance in Threat Response ({s.region}) has Registered "
                     f"Device {s.device_id}", remedies.VER_3)
    chosen = next((m for m in found if m.get("enabled", True)), found[0])
    s.module_id = str(chosen.get("id", ""))
    if not chosen.get("enabled", True):
        return s.row(check, refs, Status.FAIL, f"module {chosen.get('name')!r} is disabled", remedies.VER_3)
    return s.row(check, refs, Status.PASS, f"module {chosen.get('name')!r} ({s.module_id})")


def _latest_mail(s: Subject) -> TrackingRecord | None:
    records = s.clients.rest(s.name).tracking_messages()  # the last day, up to the appliance's now
    return max(records, key=lambda r: (r.timestamp, r.mid or 0), default=None)


def investigation(s: Subject) -> Row:
    check, refs = "investigation", "TS-2/VER-5"
    if not s.module_id:
        return s.row(check, refs, Status.SKIP, "not checked: no module for this appliance (see module)")
    ctr = s.clients.ctr(s.region)
    assert ctr is not None  # the module check found one
    mail = _latest_mail(s)
    if mail is None:
        return s.row(check, refs, Status.WARN, "no test mail found: send one (VER-4)", remedies.VER_4)
    errors: list[str] = []
    for kind, value in (("cisco_mid", str(mail.mid)), ("email_subject", mail.subject)):
        if not value:
            continue
        answer = ctr.observe([(kind, value)])
        errors += [str(e.get("message", e)) for e in answer.get("errors") or []
                   if e.get("module_instance_id") == s.module_id]
        if _sightings(answer, s.module_id):
            return s.row(check, refs, Status.PASS, f'{kind}:"{value}" returns a sighting from the module '
                         f"(latest mail: MID {mail.mid})")
    said = f"; the module says: {'; '.join(dict.fromkeys(errors))}" if errors else ""
    return s.row(check, refs, Status.FAIL, f'no sighting from the module for cisco_mid:"{mail.mid}" or its subject '
                 f"(tracked on the appliance){said}", remedies.ts_2(s.region))


def _sightings(answer: dict[str, Any], module_id: str) -> int:
    return sum(int(((entry.get("data") or {}).get("sightings") or {}).get("count", 0))
               for entry in answer.get("data") or [] if entry.get("module_instance_id") == module_id)


CHECKS: list[tuple[str, Callable[[Subject], Row]]] = [
    ("version", version), ("enable committed", enable_committed), ("registration", registration),
    ("module", module), ("investigation", investigation),
]
