"""AsyncOS release lines as data: one frozen record per line, selected by product kind and version.

Everything the simulated appliance does differently from one release to the next lives in a record
here: the ``cloudserviceconfig`` operations it offers (and their order), the server choices, the
Cloud Service Settings wording, the product names, and behaviours such as the rollback question of
``commit``. No other module compares versions or release names; they read the record
(``ApplianceSpec.release``).

Sources: seeds 000-004 (they outrank everything), then shared/reference/releases.md where it is firm.
Each record names in ``inferred`` the fields no document gives for that release; a test checks that
every name there is a field, so a report can list what to confirm on real gear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from . import messages as msg

Version = tuple[int, ...]


@dataclass(frozen=True)
class CloudLabels:
    """Wording of Network > Cloud Service Settings (ENA-2, ENA-8)."""

    feature: str  # row label of the on/off setting on the page and the edit form
    server: str  # row label of the server on the page
    edit: str  # the button that opens the edit form
    edit_when_disabled: str  # gateway variants: the button reads "Enable" while the service is off (seed 000)
    enable: str  # the checkbox on the edit form
    server_choice: str  # the server select on the edit form


# seed 002/004 (ESA 13.0) and T1: "Threat Response:", "Edit Settings", "Enable", "Threat Response Server"
THREAT_RESPONSE_LABELS = CloudLabels("Threat Response:", "Threat Response Server:", "Edit Settings",
                                     "Edit Settings", "Enable", "Threat Response Server:")
# seed 000 (SMA user guide, SecureX era): "click Edit Global Settings"
SECUREX_SMA_LABELS = CloudLabels("Threat Response:", "Threat Response Server:", "Edit Global Settings",
                                 "Edit Global Settings", "Enable", "Threat Response Server:")
# seed 000: "Enable Cloud Service" + "choose the SecureX server"
SECUREX_GATEWAY_LABELS = CloudLabels("Cloud Service:", "SecureX Server:", "Edit Settings", "Enable",
                                     "Enable Cloud Service", "SecureX server:")
# seed 000: "Enable Cisco Cloud Services" + "choose the Cisco Secure server"
CISCO_CLOUD_GATEWAY_LABELS = CloudLabels("Cisco Cloud Services:", "Cisco Secure Server:", "Edit Settings", "Enable",
                                         "Enable Cisco Cloud Services", "Cisco Secure server:")

# The cloudserviceconfig menu lines, by operation (seed 003 unless marked in messages.py).
CSC_ITEMS: Mapping[str, str] = MappingProxyType({
    "register": msg.CSC_REGISTER_ITEM,
    "deregister": msg.CSC_DEREGISTER_ITEM,
    "reregister": msg.CSC_REREGISTER_ITEM,
    "settrs": msg.CSC_SETTRS_ITEM,
})

# The SETTRS server list. Seed 003 verbatim: slot 1 empty (APJC unsupported) and no space in "3.AMERICAS".
SEED_003_SERVER_LINES = ("1.", "2. {EUROPE}", "3.{AMERICAS}")
NUMBERED_SERVER_LINES = ("1. {APJC}", "2. {EUROPE}", "3. {AMERICAS}")


@dataclass(frozen=True)
class Release:
    key: str  # "esa-13.x": what the control plane shows and the transcript folders are called
    kind: str  # esa | sma | gateway
    first: Version  # the first version of the line (inclusive) ...
    until: Version | None  # ... and the first version of the next line (exclusive); None: open-ended
    era: str  # "ctr" (Threat Response) or "securex": shown on the control plane, never compared
    gateway_variant: str | None = None  # gateways (ENA-8): which of the two label sets
    # ---- names
    gui_product: str = "Email Security"  # header brand: "Cisco C100V" / "<gui_product> Virtual Appliance"
    cli_family: str = "Email Security"  # the login banner and `version`: "Cisco C100V <cli_family> ... Appliance"
    product_name: str = "Email Security appliance"  # how cloud service messages name the appliance
    # ---- servers (ENA-3, REG-4): what the appliance offers, default first; the numbered SETTRS list
    servers: tuple[str, ...] = ("AMERICAS", "EUROPE")
    server_slots: tuple[str | None, ...] = (None, "EUROPE", "AMERICAS")  # SETTRS number -> server
    server_lines: tuple[str, ...] = SEED_003_SERVER_LINES  # "{EUROPE}" stands for the server's label
    # ---- CLI
    absent_commands: tuple[str, ...] = ()  # commands this release does not have ("Unknown command ...")
    csc_operations: tuple[str, ...] = ("register", "deregister", "settrs")  # menu order (cloudserviceconfig.OPERATIONS)
    csc_batch_only: tuple[str, ...] = ("status",)  # operations the batch form takes that the menu does not list
    csc_items: Mapping[str, str] = field(default_factory=lambda: CSC_ITEMS, hash=False)  # menu line per operation
    commit_asks_rollback: bool = False  # "Do you want to save the current configuration for rollback?"
    # ---- GUI
    labels: CloudLabels = THREAT_RESPONSE_LABELS
    gui_reregister: bool = False  # REG-9: the Reregister button on a registered appliance
    # ---- where the strings come from
    sources: str = ""
    inferred: frozenset[str] = frozenset()  # fields no document gives for this release line

    def __post_init__(self) -> None:
        names = {f.name for f in fields(self)}
        unknown = self.inferred - names
        if unknown:
            raise ValueError(f"release {self.key}: inferred names no field: {sorted(unknown)}")
        missing = [op for op in self.csc_operations if op not in self.csc_items]
        if missing:
            raise ValueError(f"release {self.key}: no menu line for {missing}")

    def covers(self, version: Version) -> bool:
        return self.first <= version and (self.until is None or version < self.until)

    @property
    def csc_verbs(self) -> tuple[str, ...]:
        """Every operation the batch form ``cloudserviceconfig <operation> ...`` accepts."""
        return self.csc_operations + self.csc_batch_only

    def server_list(self, label: Mapping[str, str]) -> list[str]:
        """The numbered SETTRS lines, each server's label filled in."""
        return [line.format_map(label) for line in self.server_lines]


_TR_ESA_SOURCES = "seeds 002/003/004 (ESA C100V 13.0, SMA 13.0 CLI); releases.md 3.1 (T1, Q1-Q4)"
_SECUREX_SOURCES = "seed 000 (SecureX-era SMA guide: Reregister, Edit Global Settings, APJC); reference 1.3"
_SMA_NAMES: dict[str, Any] = {
    "gui_product": "Content Security Management", "cli_family": "Content Security Management",
    "product_name": "Content Security Management appliance",
}
# What every SecureX-era line has in common: APJC, REREGISTER (CLI and GUI), the rollback question.
_SECUREX_ERA: dict[str, Any] = {
    "era": "securex", "servers": ("AMERICAS", "EUROPE", "APJC"), "server_slots": ("APJC", "EUROPE", "AMERICAS"),
    "server_lines": NUMBERED_SERVER_LINES, "csc_operations": ("register", "deregister", "reregister", "settrs"),
    "commit_asks_rollback": True, "gui_reregister": True,
}

SMA_14 = Release(
    key="sma-14.x", kind="sma", first=(14,), until=(15,), **_SMA_NAMES, **_SECUREX_ERA, labels=SECUREX_SMA_LABELS,
    sources=_SECUREX_SOURCES,
    inferred=frozenset({"server_lines"}),
)
GATEWAY_SECUREX = Release(
    key="gateway-securex", kind="gateway", first=(), until=None, gateway_variant="securex", **_SECUREX_ERA,
    labels=SECUREX_GATEWAY_LABELS,
    sources="seed 000 (content security gateways, ENA-8)",
    inferred=frozenset({"product_name", "server_lines", "csc_operations", "commit_asks_rollback"}),
)

RELEASES: tuple[Release, ...] = (
    Release(
        # PRE-5 (seeds 002/004): direct integration needs "minimum AsyncOS 13.0.0-314 (LD)"; an earlier ESA has
        # no Threat Response commands at all (how it lacks the feature is not documented: inferred; its GUI is
        # left as 13.x's, no scenario reads a pre-minimum GUI)
        key="esa-before-13.0.0-314", kind="esa", first=(), until=(13, 0, 0, 314), era="ctr",
        absent_commands=("threatresponseconfig", "cloudserviceconfig"),
        sources="seeds 002/004 (the minimum release of the integration)",
        inferred=frozenset({"absent_commands", "product_name"}),
    ),
    Release(
        key="esa-13.x", kind="esa", first=(13, 0, 0, 314), until=(14,), era="ctr",
        sources=_TR_ESA_SOURCES,
        # seed 003 is the SMA guide; the ESA wording of the cloud messages follows it
        inferred=frozenset({"product_name"}),
    ),
    Release(
        key="esa-14.x", kind="esa", first=(14,), until=None, **_SECUREX_ERA,
        sources=_SECUREX_SOURCES,
        # seed 000 is the SMA guide: the ESA gets the same operations by analogy; the numbered list
        # with APJC in slot 1 fills seed 003's empty slot
        inferred=frozenset({"product_name", "server_lines", "csc_operations", "gui_reregister"}),
    ),
    Release(
        key="sma-13.x", kind="sma", first=(), until=(14,), era="ctr", **_SMA_NAMES,
        sources="seed 003 (SMA guide, Threat Response era): every CLI dialog word for word",
    ),
    SMA_14,
    replace(
        SMA_14, key="sma-15.x", first=(15,), until=None,
        # reference/asyncos.md 6.4: SMA 15.0 calls itself "Secure Email and Web Manager"
        gui_product="Secure Email and Web Manager",
        sources=_SECUREX_SOURCES + "; reference/asyncos.md 6.4 (15.0 product name)",
        # the banner and the cloud messages keep the 13.x/14.x wording: no capture of 15.x text
        inferred=frozenset({"server_lines", "cli_family", "product_name", "labels"}),
    ),
    GATEWAY_SECUREX,
    replace(GATEWAY_SECUREX, key="gateway-cisco-cloud", gateway_variant="cisco-cloud",
            labels=CISCO_CLOUD_GATEWAY_LABELS),
)

GATEWAY_VARIANTS: tuple[str, ...] = tuple(r.gateway_variant for r in RELEASES if r.gateway_variant)


def parse_version(version: str) -> Version:
    """``13.0.0-392`` -> (13, 0, 0): the release without its build number."""
    head = version.split("-")[0]
    return tuple(int(p) for p in head.split(".") if p.isdigit())


def release_key(version: str) -> Version:
    """``13.0.0-392`` -> (13, 0, 0, 392): a line may start at a build (PRE-5: 13.0.0-314)."""
    head, _, build = version.partition("-")
    return parse_version(head) + ((int(build),) if build.isdigit() else ())


def release_for(kind: str, version: str, gateway_variant: str | None = None) -> Release:
    """The release line of an appliance; gateways by their variant (ENA-8), any version."""
    wanted = release_key(version)
    for release in RELEASES:
        if release.kind != str(kind) or not release.covers(wanted):
            continue
        if release.gateway_variant is None or release.gateway_variant == gateway_variant:
            return release
    if str(kind) == "gateway":  # an unknown variant looks like the first one
        return release_for(kind, version, GATEWAY_VARIANTS[0])
    raise LookupError(f"no AsyncOS release record for {kind} {version}")

