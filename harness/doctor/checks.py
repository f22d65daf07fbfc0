"""The per-appliance checks, in the documents' order: version, enable committed, registration, module,
investigation. Each only reads; each returns a Row. Facts one check learns (the SSE device id, the
module instance, how the page names the feature) are kept on the :class:`Subject` for the next.

Every check applies to the three kinds (ESA, SMA, content security gateway): each is enabled, registered
with SSE, added as a module and investigated (seeds 000/001/003 for the SMA and the gateways); only the
minimum version, the page's wording, the module type and the remedies differ by kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..appliance import Page, TrackingRecord
from ..appliance.gui import EDIT_BUTTONS
from ..cloud import ThreatResponseClient
from ..errors import DriverError
from ..facts import CLOUD_PAGE, NOT_MAIL_MODULES, REGISTERED, SETTLING
from ..facts import REGION_OF_SERVER as SERVER_REGION
from ..polling import PollTimeout, poll_until
from ..testbed import Device
from . import remedies, versions
from .clients import Clients
from .result import Row, Status

FEATURE_LABELS = CLOUD_PAGE.feature  # ESA/SMA; gateway variants
SERVER_LABELS = CLOUD_PAGE.server


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
    feature: str | None = None  # the page's label of the on/off setting ("Threat Response", "Cloud Service", ...)
    edit_button: str | None = None  # the page's edit button ("Edit Settings", "Edit Global Settings", "Enable")
    threat_response_off: bool = False  # the SSE Threat Response check found it disabled (TS-1)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.device.kind

    @property
    def enable_remedy(self) -> str:
        return remedies.enable(self.kind, self.feature, self.edit_button)

    def row(self, check: str, refs: str, status: Status, detail: str, remedy: str = "") -> Row:
        return Row(self.name, check, refs, status, detail, remedy if status in (Status.FAIL, Status.WARN) else "")


def version(s: Subject) -> Row:
    check, refs = "version", "PRE-5"
    text = s.clients.cli(s.name).run("version")
    found = versions.parse(text)
    remedy = remedies.pre_5(s.kind)
    if found is None:
        return s.row(check, refs, Status.FAIL, "the CLI's version output has no 'Version:' line", remedy)
    meets, quick_start = versions.verdict(s.kind, found)
    need = versions.minimum_text(s.kind)
    if not meets:
        return s.row(check, refs, Status.FAIL, f"AsyncOS {found} on this {remedies.product(s.kind)}: needs {need} "
                     "or later", remedy)
    if not quick_start:
        return s.row(check, refs, Status.WARN, f"AsyncOS {found}: the Email Security Appliance module quick start "
                     "asks for at least 13.0.0-314", remedy)
    return s.row(check, refs, Status.PASS, f"AsyncOS {found} (needs {need} or later)")


def _cloud_page(s: Subject) -> Page:
    s.page = s.clients.gui(s.name).cloud_service_settings()
    return s.page


def _first_value(page: Page, labels: tuple[str, ...]) -> str | None:
    return next((v for label in labels if (v := page.value(label)) is not None), None)


def _first_label(page: Page, labels: tuple[str, ...]) -> str | None:
    return next((label for label in labels if page.value(label) is not None), None)


def enable_committed(s: Subject) -> Row:
    check, refs = "enable committed", "ENA-2/TS-3"
    if s.kind == "gateway":
        refs = "ENA-8/TS-3"  # the gateways' own enabling procedure (seeds 000/001)
    page = _cloud_page(s)
    # The page's own words: the remedies name what this product's page shows (ENA-2, ENA-8).
    s.feature = _first_label(page, FEATURE_LABELS)
    s.edit_button = next((b for b in EDIT_BUTTONS if page.button(b) is not None), None)
    state = _first_value(page, FEATURE_LABELS)
    # The header shows "Commit Changes" while something is staged and not committed (ENA-5).
    pending = page.button("Commit Changes") is not None
    if state is None:
        return s.row(check, refs, Status.FAIL, f"Cloud Service Settings shows no {' / '.join(FEATURE_LABELS)} row "
                     f"(labels: {page.labels()})", s.enable_remedy)
    feature = s.feature
    if state.strip().casefold() == "enabled" and not pending:
        server = _first_value(page, SERVER_LABELS) or "?"
        return s.row(check, refs, Status.PASS, f"{feature}: Enabled, server {server}, no uncommitted changes")
    if pending:
        return s.row(check, refs, Status.FAIL, f"{feature}: {state} (committed) and uncommitted changes are "
                     "pending ('Commit Changes' shown): the appliance will not ask for a token",
                     remedies.ts_3(feature))
    return s.row(check, refs, Status.FAIL, f"{feature}: {state}", s.enable_remedy)


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
            remedy = f"{s.enable_remedy}; then register (REG-2) | {remedies.ts_3(s.feature)}"
        elif "could not connect" in status:
            remedy = "PRE-3/PRE-4: open HTTPS 443 to the region's FQDNs (see the firewall row); then " + remedy
        return s.row(check, refs, Status.FAIL, f"status: {status}", remedy)
    server = _first_value(s.page, SERVER_LABELS) if s.page else None
    server_label = (_first_label(s.page, SERVER_LABELS) if s.page else None) or SERVER_LABELS[0]
    where = _server_region(server)
    listed = _sse_device(s)
    if listed is None:
        return s.row(check, refs, Status.WARN, f"{status} (SSE device list not checkable: no SSE admin API or "
                     f"Threat Response device list for {s.region})", remedies.TS_1_UNCHECKABLE)
    if not listed:
        hint = f"; the appliance's server is {server}" if where and where != s.region else ""
        return s.row(check, refs, Status.FAIL, f"registered on the appliance, but {s.device.hostname} is absent from "
                     f"the {s.region} SSE device list{hint}", remedies.wrong_region(s.region, server_label) + " | "
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
    remedy = remedies.ver_3(s.kind)  # VER-3: the module type differs by kind (SMA: SMA Email)
    if ctr is None:
        return s.row(check, refs, Status.WARN, f"not checkable: no Threat Response client for {s.region} in the "
                     "testbed", remedy)
    found = [m for m in ctr.module_instances()
             if str((m.get("settings") or {}).get("registered_device", "")) == s.device_id]
    if not found:
        return s.row(check, refs, Status.FAIL, f"no module instance in Threat Response ({s.region}) has Registered "
                     f"Device {s.device_id}", remedy)
    titles = _module_titles(ctr)
    mail = [m for m in found if titles.get(str(m.get("module_type_id"))) not in NOT_MAIL_MODULES]
    if not mail:
        names = ", ".join(f"{m.get('name')!r} ({titles.get(str(m.get('module_type_id')))})" for m in found)
        return s.row(check, refs, Status.FAIL, f"no email module has Registered Device {s.device_id}, only {names}: "
                     "it reports web traffic and does not search mail (VER-8)", remedy)
    chosen = next((m for m in mail if m.get("enabled", True)), mail[0])
    s.module_id = str(chosen.get("id", ""))
    if not chosen.get("enabled", True):
        return s.row(check, refs, Status.FAIL, f"module {chosen.get('name')!r} is disabled", remedy)
    return s.row(check, refs, Status.PASS, f"module {chosen.get('name')!r} ({s.module_id})")


def _module_titles(ctr: ThreatResponseClient) -> dict[str, str]:
    """Module type id -> title; empty when the tenant does not list them (every type then counts as mail)."""
    try:
        return {str(t.get("id")): str(t.get("title")) for t in ctr.module_types()}
    except DriverError:
        return {}


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
        return s.row(check, refs, Status.WARN, "no test mail found: send one (VER-4)", remedies.ver_4(s.kind))
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
    if s.threat_response_off:  # TS-1: no module reaches the device while SSE does not share it; syntax is not it
        return s.row(check, "TS-1/VER-5", Status.FAIL, f"Threat Response is disabled in SSE (see SSE Threat "
                     f'Response): no sighting for cisco_mid:"{mail.mid}"{said}', remedies.TS_1)
    return s.row(check, refs, Status.FAIL, f'no sighting from the module for cisco_mid:"{mail.mid}" or its subject '
                 f"(tracked on the appliance){said}", remedies.ts_2(s.region))


def _sightings(answer: dict[str, Any], module_id: str) -> int:
    return sum(int(((entry.get("data") or {}).get("sightings") or {}).get("count", 0))
               for entry in answer.get("data") or [] if entry.get("module_instance_id") == module_id)


CHECKS: list[tuple[str, Callable[[Subject], Row]]] = [
    ("version", version), ("enable committed", enable_committed), ("registration", registration),
    ("module", module), ("investigation", investigation),
]
