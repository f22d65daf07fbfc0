"""One scenario's world: the leased appliance, what the scenario has seen so far, and the documented
procedures as reusable operations (enable, register, deregister, switch server, add a module, ...).

Steps stay thin: they parse the sentence and call one of these operations or read what it recorded,
then assert with :func:`steps.expect.expect`. The operations do what the documents tell a person to do,
over the appliance's own interfaces: ``interface`` is "GUI" or "CLI", never the backend.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.access import LabAccess
from harness.appliance import AsyncOSCli, AsyncOSGui, Page, Secret
from harness.appliance.cloud_cli import IN_PROGRESS, TOKEN_PROMPT, CloudCliView, read_cloud_cli
from harness.appliance.cloud_page import CloudSettingsView, labels_for, read_cloud_page
from harness.cloud import SseAdmin, ThreatResponseClient
from harness.errors import ApiError, AuthenticationFailed, CliError
from harness.facts import (
    DEFAULT_SERVER,
    EMAIL_MODULE_TITLE,
    NOTHING_TO_COMMIT,
    REGION_OF_SERVER,
    SERVER_LABEL,
    SERVER_OF_REGION,
    inferred_in,
)
from harness.labtime import TimedOut
from harness.leasing import Appliance

from .contexts import CliRun, Seen
from .expect import contains, expect, note_inferred
from .placeholders import resolve

# What the steps read off Network > Cloud Service Settings (GUI) or the CLI's own dialogs (@cli scenarios).
CloudState = CloudSettingsView | CloudCliView
ROLLBACK_QUESTION = r"save the current configuration for rollback"
# Module settings of the Add New Module form (VER-3), by their labels.
DEVICE_SETTING = "Registered Device"
TIMEFRAME_SETTING = "Request Timeframe (days)"
FORWARD_SETTING = "Remediation Forward Address"
EXPIRY = {  # REG-1: the portal's choices, as a person reads them
    "1 hour": "1h", "2 hours": "2h", "4 hours": "4h", "6 hours": "6h", "8 hours": "8h", "12 hours": "12h",
    "1 day": "1d", "2 days": "2d", "3 days": "3d", "4 days": "4d", "5 days": "5d",
}


def expiry_code(text: str) -> str:
    """"2 hours" -> "2h"; a value the portal does not offer passes through as typed (SSE refuses it)."""
    text = " ".join(text.split()).lower()
    if text in EXPIRY:
        return EXPIRY[text]
    m = re.fullmatch(r"(\d+) (hour|day)s?", text)
    return f"{m.group(1)}{m.group(2)[0]}" if m else text


def expiry_hours(text: str) -> int:
    code = expiry_code(text)
    return int(code[:-1]) * (24 if code.endswith("d") else 1)


@dataclass
class World:
    request: pytest.FixtureRequest
    lab: LabAccess
    device: Appliance
    values: dict[str, str] = field(default_factory=dict)
    seen: Seen = field(default_factory=Seen)
    cleanups: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        d = self.device
        self.values.update({
            "hostname": d.hostname, "shortname": d.shortname, "type": d.device_type, "product": d.product,
            "short version": d.short_version, "model": d.model,
        })

    # ---- plumbing ---------------------------------------------------------------------------------
    @property
    def cli(self) -> AsyncOSCli:
        self._needs("CLI")
        return self.lab.cli(self.device)

    @property
    def gui(self) -> AsyncOSGui:
        self._needs("GUI")
        return self.lab.gui(self.device)

    def _needs(self, interface: str) -> None:
        """A scenario tagged neither @cli nor @gui promised no interface: where it reaches for one the testbed
        does not give the appliance, it skips. A @cli or @gui one that reaches for the other interface is a
        harness defect, which the driver's MissingConnection reports (a tagged one lacking its own skipped
        before it began: ``steps.fixtures.missing_interface``)."""
        if self._only() is None and not self.offers(interface):
            pytest.skip(f"the scenario drives the {interface} and {no_connection(self.device, interface.lower())}")

    def sse(self, region: str | None = None) -> SseAdmin:
        return self.lab.sse(region)

    def ctr(self, region: str | None = None) -> ThreatResponseClient:
        return self.lab.ctr(region)

    def text(self, raw: str) -> str:
        """Step text with the scenario's value placeholders filled in (``<token>``, ``<hostname>``, ...)."""
        return resolve(raw, self.values)

    def check(self, condition: object, expected: object, observed: object, what: str = "") -> None:
        inferred = inferred_in(expected) if isinstance(expected, str) else []
        if inferred:
            note_inferred(self.request, inferred)
        expect(condition, expected, observed, self.request, what)

    def on_teardown(self, what: str, action: Callable[[], Any]) -> None:
        """Undo a lab change after the scenario, pass or fail (firewall rules, SSE toggles, versions)."""
        self.cleanups.append((what, action))

    def run_cleanups(self) -> list[str]:
        problems = []
        while self.cleanups:
            what, action = self.cleanups.pop()
            try:
                action()
            except Exception as exc:  # keep restoring the rest; report what could not be undone
                problems.append(f"{what}: {type(exc).__name__}: {exc}")
        return problems

    # ---- reading the appliance ----------------------------------------------------------------------
    def offers(self, interface: str) -> bool:
        """Whether the testbed gives the leased appliance this interface ("CLI": its ``cli`` connection, SSH;
        "GUI": its ``gui`` connection), so on gear an SSH-only or GUI-only appliance is taken as it is."""
        return self.device.has(interface.lower())

    def _only(self) -> str | None:
        """"CLI" for a @cli scenario (not also @gui), "GUI" for a @gui one (not also @cli), else None."""
        tagged = [i for i in ("CLI", "GUI") if self.request.node.get_closest_marker(i.lower())]
        return tagged[0] if len(tagged) == 1 else None

    @property
    def interface(self) -> str:
        """The interface the scenario reads the appliance's state through. Interfaces are their own oracles:
        a @cli scenario reads through the CLI only, a @gui one through the GUI only; one tagged both or
        neither reads Network > Cloud Service Settings where the testbed gives the GUI, else the CLI."""
        return self._only() or ("GUI" if self.offers("GUI") or not self.offers("CLI") else "CLI")

    @property
    def setup_interface(self) -> str:
        """The interface the set-ups (known state, enabling, registering) go through: the scenario's own for a
        @cli or @gui scenario; for one tagged both or neither the CLI where the testbed gives it (one batch),
        else the GUI."""
        return self._only() or ("CLI" if self.offers("CLI") or not self.offers("GUI") else "GUI")

    def cloud_state(self) -> CloudState:
        """The cloud service state through the scenario's interface: the CLI's dialogs for a @cli scenario,
        else Network > Cloud Service Settings in the GUI (the page the documents show)."""
        if self.interface == "CLI":
            self.seen.gui.page_fresh = False
            return read_cloud_cli(self.cli, after_register=self.seen.cli.registering)
        return self.cloud_state_gui()

    def cloud_state_gui(self) -> CloudSettingsView:
        url = self.lab.cloud_url.get(self.device.name)
        page = self.gui.open(url) if url else self.gui.navigate("Network", "Cloud Service Settings")
        self.lab.cloud_url.setdefault(self.device.name, page.url)
        self.seen.gui.page_fresh = True
        return self.cloud_state_of(page)

    def cloud_state_of(self, page: Page) -> CloudState:
        return read_cloud_page(page, labels_for(self.lab.testbed.deviations))

    def poll(self, deadline: str, probe: Callable[[], Any], done: Callable[[Any], bool], what: str,
             settle: bool = False) -> Any:
        """Wait for the leased appliance (and the cloud it talks to) to reach a state, within ``deadline``."""
        return self.lab.time.poll(deadline, probe, done, what, owner=self.device.name, settle=settle)

    def wait_state(self, deadline: str, done: Callable[[CloudState], bool], what: str,
                   settle: bool = False) -> CloudState:
        try:
            return self.poll(deadline, self.cloud_state, done, what, settle=settle)  # type: ignore[no-any-return]
        except TimedOut as exc:
            last = exc.last.describe() if isinstance(exc.last, CloudSettingsView | CloudCliView) else exc.last
            self.check(False, what, f"after the {deadline} deadline ({self.lab.time.of(deadline):.0f}s): {last}",
                       f"not within the {deadline} deadline")
            raise  # unreachable: check() raised

    def asks_for_token_cli(self) -> tuple[bool, str]:
        """cloudserviceconfig > REGISTER: does the appliance ask for a token? (backs out without one)."""
        try:
            out = self.cli.converse("cloudserviceconfig", ["register", ""])
        except CliError as exc:
            out = exc.output
        return TOKEN_PROMPT.lower() in " ".join(out.split()).lower(), out

    # ---- known starting state ---------------------------------------------------------------------
    def start_disabled(self) -> None:
        """The appliance with cloud services disabled, nothing pending, not registered anywhere.

        Over the protocols: deregister if registered (CLI), disable if enabled, commit, abandon
        anything pending, and delete the appliance's records from every region's SSE (the portal's delete),
        whatever an earlier session or another worker left there. Where the lab control can reset the
        appliance (a simulator), the same state, its SSE records and modules included, is one call.
        """
        if self.lab.control.reset_appliance(self.device.name):
            self.forget_pages()
            return
        via = self.setup_interface
        if via == "GUI" and self.has_pending_gui_changes():
            self.gui.abandon_changes()  # first: the GUI's commit below would commit them too
        state = self.cloud_state()
        if state.in_progress:
            state = self.wait_state("registration", lambda s: not s.in_progress, "the registration to settle")
        if state.registered:
            if via == "GUI":
                self.gui.deregister()
            else:
                self.cli.exec("cloudserviceconfig deregister", check=True)
            self.wait_state("deregistration", lambda s: not s.registered and "deregistration" not in s.status,
                            "the deregistration to finish")
        if state.enabled.lower() == "enabled":
            if via == "GUI":
                self.gui.edit_cloud_settings(enable=False)
                self.gui.commit_changes("ctrlab: known state")
            else:
                self.cli.exec(["threatresponseconfig disable", 'commit "ctrlab: known state"'], check=True)
        if via == "CLI" and self.interface == "GUI" and self.has_pending_gui_changes():
            self.gui.abandon_changes()
        self.forget_sse_records()

    def forget_pages(self) -> None:
        """After the lab changed the appliance behind the GUI's back: the page read before is stale."""
        if self.interface == "GUI":
            self.gui.page = None

    def forget_sse_records(self) -> None:
        """Delete the appliance's records from every region's SSE device list (the portal's delete):
        records a registration left behind in a region the appliance no longer uses (REG-6)."""
        for region in self.sse_regions():
            for entry in self.sse_entries(region):
                try:
                    self.sse(region).delete_device(str(entry["id"]))
                except ApiError as exc:
                    if exc.status != 404:
                        raise

    def has_pending_gui_changes(self) -> bool:
        page = self.gui.open("")
        return page.button("Commit Changes") is not None and not page.has_text("No Changes Pending")

    def ensure_threat_response_in_sse(self, regions: list[str] | None = None) -> None:
        """PRE-2 as a precondition: Threat Response enabled on every region's Cloud Services tab."""
        for region in regions or self.sse_regions():
            if self.lab.tr_enabled.get(region):
                continue
            sse = self.sse(region)
            if not sse.cloud_service_enabled():
                sse.set_cloud_service(True)
            self.lab.tr_enabled[region] = True

    def sse_regions(self) -> list[str]:
        return self.lab.sse_regions

    # ---- the documented procedures ------------------------------------------------------------------
    def enable(self, server: str | None, interface: str) -> None:
        """ENA-2 (GUI) / ENA-6 + REG-4 (CLI): enable Threat Response with ``server`` and commit."""
        interface = interface.upper()
        if interface == "GUI":
            label = SERVER_LABEL.get(server.upper()) if server else None
            self.gui.edit_cloud_settings(enable=True, server=label)
            self.gui.commit_changes("ctrlab: enable Threat Response")
            self.seen.gui.page_fresh = True
        elif interface == "CLI":
            self.run_cli("threatresponseconfig", ["ENABLE"])
            if server:
                self.choose_server_cli(server)
            self.run_cli("commit", ["ctrlab: enable Threat Response"])
        else:
            raise ValueError(f"interface must be GUI or CLI, not {interface!r}")

    def wait_ready(self) -> CloudState:
        """ENA-4: "after a few minutes a Registration Token field and a Register button appear"."""
        # "after a few minutes": three simulated minutes pass before the first look.
        return self.wait_state("cloud_ready", lambda s: s.token_field, "a Registration Token field and Register button",
                               settle=True)

    def waiting_for_token(self, server: str | None = None) -> None:
        """Enabled, not registered, the token field shown, on ``server`` (by default the default server, which a
        reset appliance selects by itself; one that was not reset may still show an earlier scenario's)."""
        server = server or DEFAULT_SERVER
        self.ensure_threat_response_in_sse()
        state = self.cloud_state()
        if state.registered or state.in_progress:
            # Left so by the scenario before (under xdist another one than in a serial run): start over.
            self.start_disabled()
            state = self.cloud_state()
        if state.token_field and (server is None or server.upper() in state.server.upper()):
            return
        if state.token_field and server and self.interface == "CLI":
            # The CLI shows no chosen server: choose it (SETTRS) and commit, as the user guide does; when it
            # was already chosen the commit has nothing to commit, which is as good.
            self.choose_server_cli(server)
            out = self.run_cli("commit", ["ctrlab: choose the server"]).output
            self.check(contains(out, "Changes committed:") or contains(out, NOTHING_TO_COMMIT),
                       "Changes committed: <date>", out, "set-up: SETTRS and commit")
        elif state.enabled.lower() == "enabled" and server:
            self.switch_server(server, self.setup_interface)
        elif state.enabled.lower() != "enabled" and self.setup_interface == "GUI":
            self.enable(server, "GUI")
            self.check(self.gui.page is not None and self.gui.page.has_text("Your changes have been committed"),
                       "Success — Your changes have been committed.",
                       self.gui.page.text[:800] if self.gui.page is not None else "(no page)",
                       "set-up: enabling Threat Response (Edit Settings, Submit, Commit Changes)")
        elif state.enabled.lower() != "enabled":
            result = self.cli.exec(["threatresponseconfig enable"]
                                   + ([f"cloudserviceconfig settrs {server.upper()}"] if server else [])
                                   + ['commit "ctrlab: enable Threat Response"'])
            self.check("Changes committed:" in result.output, "threatresponseconfig enable, then commit: "
                       '"Changes committed: <date>"', result.output, "set-up: enabling Threat Response (CLI batch)")
        state = self.wait_ready()
        self.check(state.token_field, "a Registration Token field and a Register button", state.describe(),
                   "set-up: the appliance waits for a registration token")

    def new_token(self, region: str, expiration: str = "1h") -> str:
        token = self.sse(region).token(expiration)
        self.remember_token(token)
        return token

    def remember_token(self, token: str) -> None:
        self.lab.mask(token)
        self.seen.sse.tokens.append(token)
        self.values["token"] = token

    @property
    def token(self) -> str:
        if not self.seen.sse.tokens:
            raise LookupError("no registration token in this scenario yet (a step must get one first)")
        return self.seen.sse.tokens[-1]

    def register(self, token: str, interface: str) -> None:
        """REG-2 (GUI: paste the token, Register) / REG-3 (CLI: cloudserviceconfig > REGISTER)."""
        interface = interface.upper()
        if interface == "GUI":
            self.gui.transcript.add_secret(token)
            self.gui.navigate("Network", "Cloud Service Settings")
            self.gui.fill({"Registration Token": token})
            self.gui.click("Register")
            self.seen.gui.page_fresh = True
        else:
            self.run_cli("cloudserviceconfig", ["REGISTER", Secret(token)])
        self.seen.cli.registering = True

    def wait_registered(self) -> CloudState:
        return self.wait_state("registration", lambda s: s.registered or s.failed, "the registration to finish")

    def registered(self, server: str | None = None, region: str | None = None) -> None:
        """Given: the whole procedure, enable + token from the server's region + register + wait."""
        server = (server or SERVER_OF_REGION[self.lab.region]).upper()
        self.waiting_for_token(server)
        self.register(self.new_token(region or REGION_OF_SERVER[server]), self.setup_interface)
        state = self.wait_registered()
        self.check(state.registered, "The appliance is successfully registered with the Cisco Threat Response portal.",
                   state.describe(), "set-up: registering the appliance")

    def deregister(self, interface: str) -> None:
        """REG-5: DEREGISTER (answering yes) or the GUI's Deregister button; waits until it is done."""
        if interface.upper() == "GUI":
            self.gui.navigate("Network", "Cloud Service Settings")
            self.gui.click("Deregister")
        else:
            self.run_cli("cloudserviceconfig", ["DEREGISTER", "yes"])
        self.wait_state("deregistration", lambda s: s.token_field and not s.registered,
                        "the deregistration to finish (the Registration Token field again)")

    def choose_server_cli(self, server: str) -> str:
        """cloudserviceconfig > SETTRS, answering with the number the list shows for ``server``."""
        # Show the list, then back out with empty lines (up to the menu, then out of the command):
        # leaving a dialog unanswered would end the SSH session and drop its uncommitted changes.
        try:
            listing = self.cli.converse("cloudserviceconfig", ["SETTRS", "", ""])
        except CliError as exc:
            listing = exc.output
        number = server_number(listing, server)
        self.seen.cli.settrs = self.run_cli("cloudserviceconfig", ["SETTRS", number or server]).output
        return self.seen.cli.settrs

    def switch_server(self, server: str, interface: str) -> None:
        """Change the Threat Response server and commit (ENA-2 edit form / REG-4 SETTRS)."""
        if interface.upper() == "GUI":
            self.gui.edit_cloud_settings(enable=True, server=SERVER_LABEL[server.upper()])
            page = self.gui.commit_changes("ctrlab: switch server")
            self.seen.gui.page_fresh = True
            self.check(page.has_text("Your changes have been committed"),
                       "Success — Your changes have been committed.", page.text[:800], "Commit Changes")
        else:
            self.choose_server_cli(server)
            out = self.run_cli("commit", ["ctrlab: switch server"]).output
            self.check("Changes committed:" in out, "Changes committed: <date>", out, "commit")

    def run_cli(self, command: str, answers: list[str] | None = None) -> CliRun:
        """Run a command, answering its questions in order; the appliance's refusal is an observation."""
        optional = {ROLLBACK_QUESTION: "Y"} if command.split()[0].lower() == "commit" else None
        self.seen.gui.page_fresh = False  # whatever the GUI showed may have changed
        try:
            output = self.cli.converse(command, answers or [], optional=optional)
            run = CliRun(command, output)
        except CliError as exc:
            run = CliRun(command, exc.output, exc)
        if IN_PROGRESS in " ".join(run.output.split()):
            self.seen.cli.registering = True  # a token was taken, whichever sentence typed it
        self.seen.cli.run = run
        return run

    # ---- SSE and Threat Response --------------------------------------------------------------------
    def sse_entries(self, region: str) -> list[dict[str, Any]]:
        name = self.device.hostname
        return [d for d in self.sse(region).devices(search=name) if d.get("name") == name]

    def email_module_type(self, title: str | None = None, region: str | None = None) -> dict[str, Any]:
        title = title or EMAIL_MODULE_TITLE.get(self.device.kind, "Email Security Appliance")
        try:
            types = self.ctr(region).module_types()
        except ApiError as exc:
            self.check(False, f'Threat Response lists its available modules, "{title}" among them', exc,
                       "Settings > Modules > Available Modules")
            raise
        found = next((t for t in types if t.get("title") == title), None)
        self.check(found is not None, f'an "{title}" module type in Threat Response',
                   [t.get("title") for t in types], "module type missing")
        assert found is not None
        return found

    @staticmethod
    def spec_field(module_type: dict[str, Any], label: str) -> dict[str, Any] | None:
        return next((f for f in module_type.get("configuration_spec") or [] if f.get("label") == label), None)

    def device_choices(self, title: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
        field_ = self.spec_field(self.email_module_type(title, region), DEVICE_SETTING) or {}
        return list(field_.get("options") or [])

    def my_choice(self, choices: list[dict[str, Any]]) -> dict[str, Any] | None:
        return next((c for c in choices if str(c.get("label", "")).startswith(self.device.hostname)), None)

    def add_module(self, settings: dict[str, str] | None = None, title: str | None = None,
                   region: str | None = None, forward: str | None = None) -> dict[str, Any]:
        """Add New Module: the form's defaults unless ``settings`` (by label) say otherwise (VER-3)."""
        module_type = self.email_module_type(title, region)
        settings = dict(settings or {})
        choices = list((self.spec_field(module_type, DEVICE_SETTING) or {}).get("options") or [])
        mine = self.my_choice(choices)
        body: dict[str, Any] = {}
        for spec in module_type.get("configuration_spec") or []:
            label, key = spec.get("label"), spec.get("key")
            if label == DEVICE_SETTING:
                # Not offered: the form cannot choose it; the API is told the device SSE knows it by.
                body[key] = mine["value"] if mine else self._device_id_anywhere()
            elif label in settings:
                body[key] = settings.pop(label)
            elif label == FORWARD_SETTING and forward:
                body[key] = forward
            elif "default_value" in spec:
                body[key] = spec["default_value"]
        name = settings.pop("Module Name", None) or module_type.get("default_name") or module_type.get("title")
        if settings:
            raise ValueError(f"the {module_type.get('title')} module has no setting(s) {sorted(settings)}")
        client = self.ctr(region)
        created = client.create_module_instance(str(name), str(module_type["id"]), body)
        self.on_teardown("delete the module", lambda: client.delete_module_instance(str(created["id"])))
        self.seen.ctr.module = {**created, "_type": module_type}
        return self.seen.ctr.module

    def _device_id_anywhere(self) -> str:
        for region in self.sse_regions():
            for entry in self.sse_entries(region):
                return str(entry.get("id"))
        return "no-such-device"

    def investigate(self, query: str, region: str | None = None) -> dict[str, Any]:
        """CTR Investigate: find the observables in the query, then ask every module about them."""
        client = self.ctr(region)
        found = client.inspect(query)
        result = client.observe(found) if found else {"data": [], "errors": []}
        self.seen.ctr.investigation = {"query": query, "observables": found, **result}
        self.seen.ctr.investigated, self.seen.ctr.investigate_region = query, region
        return self.seen.ctr.investigation

    def module_sightings(self, investigation: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Sightings the scenario's module contributed (other modules of the tenant are not ours)."""
        investigation = investigation or self.seen.ctr.investigation or {}
        mine = (self.seen.ctr.module or {}).get("id")
        out = []
        for bundle in investigation.get("data") or []:
            if mine and bundle.get("module_instance_id") != mine:
                continue
            out += ((bundle.get("data") or {}).get("sightings") or {}).get("docs") or []
        return out

    def reinvestigate_until_sighting(self) -> list[dict[str, Any]]:
        try:
            last = self.poll(
                "mail_tracked",
                lambda: self.investigate(self.seen.ctr.investigated, self.seen.ctr.investigate_region),
                lambda inv: bool(self.module_sightings(inv)),
                "a sighting from the module",
            )
        except TimedOut as exc:
            last = exc.last
        return self.module_sightings(last)

    # ---- mail ---------------------------------------------------------------------------------------
    def send_mail(self, fields: dict[str, str]) -> None:
        sender = fields.get("from", "ctrlab@example.com")
        recipients = [r.strip() for r in fields.get("to", "user@example.com").split(",")]
        attachments = []
        if "attachment" in fields:
            name = fields["attachment"]
            content = f"ctrlab attachment {name}\n".encode()
            attachments.append((name, content))
            self.values[f"sha256 of {name}"] = hashlib.sha256(content).hexdigest()
        smtp = self.lab.smtp(self.device)
        sent = smtp.send(
            sender,
            recipients,
            fields.get("subject", "ctrlab"),
            message_id=fields.get("message-id"),
            attachments=attachments,
        )
        self.seen.mail.sent = {**fields, "message_id": sent.message_id_bare, "mid": sent.mid}
        if sent.mid is not None:
            self.values["mid"] = str(sent.mid)
        # The address the appliance saw the message come from: what ip:"..." must find (VER-6).
        self.values["sender ip"] = (
            self.device.endpoint("smtp")[0] if _is_loopback_host(self.device) else self.values.get("sender ip", "")
        )


def no_connection(device: Appliance, role: str) -> str:
    """The drivers' words for an interface the testbed does not give (harness.drivers.MissingConnection)."""
    return f"the testbed gives no {role} connection for {device.name} (devices.{device.name}.connections.{role})"


def _is_loopback_host(device: Appliance) -> bool:
    return device.endpoint("smtp")[0].startswith("127.")


def server_number(listing: str, server: str) -> str | None:
    """The number SETTRS shows beside ``server`` ("2. EUROPE (api.eu.sse.itd.cisco.com)", "3.AMERICAS ...")."""
    for line in listing.splitlines():
        m = re.match(r"\s*(\d+)\.\s*(\S.*)?$", line)
        if m and m.group(2) and m.group(2).upper().startswith(server.upper()):
            return m.group(1)
    return None


def authenticate(lab: LabAccess, region: str, client_id: str, secret: str) -> tuple[ThreatResponseClient | None, str]:
    """The ribbon's Authenticate: an OAuth2 client-credentials token on the chosen server."""
    client = lab.ctr_with(region, client_id, secret)
    try:
        client.token()
    except AuthenticationFailed as exc:
        client.close()
        return None, str(exc)
    return client, ""
