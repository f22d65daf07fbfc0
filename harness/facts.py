"""The harness's one table of documented facts: regions, servers, FQDNs, page labels, minimum versions,
deadline names. Every other harness module (steps, doctor, settings keeper, netcheck, cloud clients) reads
them from here; the simulators keep their own table (``virtual_appliances/common/regions.py``) because the
two sides never import each other. Adding a region is one :class:`Region` entry here and one there.

Sources: REQUIREMENTS.md and the seeds (ENA-3 server choices, PRE-3 FQDNs, PRE-5 minimums, TS-4 portals);
``apjc`` comes from seed 000 (SecureX era). Nothing here is inferred unless its comment says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    name: str  # the testbed's and the tags' name: nam | eu | apjc
    server: str  # the appliance's server choice (ENA-3): AMERICAS | EUROPE | APJC
    sse_api: str  # the SSE device API FQDN the appliance must reach on 443 (PRE-3)
    applicability: str  # PRE-3's "(applicable for ...)" wording for that FQDN
    sse_portal: str  # where tokens are generated (REG-1, TS-4)
    ctr_base: str  # Threat Response (IROH) API
    ctr_intel: str  # private intelligence API


# In the documents' order (nam, eu, apjc): every command and message lists regions this way.
REGION_TABLE: tuple[Region, ...] = (
    Region("nam", "AMERICAS", "api-sse.cisco.com", "applicable for Americas users only",
           "admin.sse.itd.cisco.com", "https://visibility.amp.cisco.com", "https://private.intel.amp.cisco.com"),
    Region("eu", "EUROPE", "api.eu.sse.itd.cisco.com", "applicable for European Union (EU) users only",
           "admin.eu.sse.itd.cisco.com", "https://visibility.eu.amp.cisco.com",
           "https://private.intel.eu.amp.cisco.com"),
    Region("apjc", "APJC", "api.apj.sse.itd.cisco.com", "applicable for APJC users only",
           "admin.apj.sse.itd.cisco.com", "https://visibility.apjc.amp.cisco.com",
           "https://private.intel.apjc.amp.cisco.com"),
)
REGIONS: tuple[str, ...] = tuple(r.name for r in REGION_TABLE)
REGION = {r.name: r for r in REGION_TABLE}
SERVER_OF_REGION = {r.name: r.server for r in REGION_TABLE}
REGION_OF_SERVER = {r.server: r.name for r in REGION_TABLE}
DEFAULT_SERVER = REGION_TABLE[0].server  # ENA-3: what a fresh appliance selects when Threat Response is enabled
# How the appliance shows a server in its choice lists and on the page: "AMERICAS (api-sse.cisco.com)".
SERVER_LABEL = {r.server: f"{r.server} ({r.sse_api})" for r in REGION_TABLE}

EST_FQDN = "est.sco.cisco.com"  # PRE-3: every region
EST_APPLICABILITY = "applicable for APJC, EU, and NAM users"

KINDS: tuple[str, ...] = ("esa", "sma", "gateway")
PRODUCT_NAME = {"esa": "ESA", "sma": "SMA", "gateway": "content security gateway"}
# How SSE types a device (VER-1): a content security gateway is an email gateway.
SSE_DEVICE_TYPE = {"esa": "ESA", "sma": "SMA", "gateway": "ESA"}
# How the appliance names itself in cloud service messages (seed 003 quotes the SMA's).
SELF_NAME = {"esa": "Email Security appliance", "sma": "Content Security Management appliance",
             "gateway": "Email Security appliance"}
# The Threat Response module type an appliance is added as (VER-2/VER-3).
EMAIL_MODULE_TITLE = {"esa": "Email Security Appliance", "gateway": "Email Security Appliance", "sma": "SMA Email"}
# VER-8: the SMA Web module (beta) reports web traffic only: it cannot answer an email investigation.
NOT_MAIL_MODULES = ("SMA Web",)

# PRE-5 (seeds 002/004): a directly integrated ESA needs 13.0, an SMA 12.5. The documents give the gateways no
# number of their own: an email gateway integrates directly with the Email Security Appliance module (seed
# 001), as an ESA does, so the ESA minimum applies (an inference, said where it is reported).
MINIMUM_VERSION = {"esa": (13, 0), "gateway": (13, 0), "sma": (12, 5)}
QUICK_START_BUILD = (13, 0, 0, 314)  # the ESA module quick start's "AsyncOS 13.0.0-314 (LD)" (PRE-5)
MINIMUM_TEXT = {"esa": "AsyncOS 13.0 or later (at least 13.0.0-314)", "gateway": "AsyncOS 13.0 or later",
                "sma": "AsyncOS 12.5 or later"}


def version_tuple(version: str) -> tuple[int, ...]:
    """``13.0.0-392`` -> (13, 0, 0, 392); a missing build counts as 0."""
    head, _, build = version.strip().partition("-")
    parts = [int(p) for p in head.split(".") if p.isdigit()]
    parts += [0] * (3 - len(parts))
    return (*parts[:3], int(build) if build.isdigit() else 0)


def meets_minimum(kind: str, version: str) -> tuple[bool, bool]:
    """(meets PRE-5's minimum, also the quick start's build) for an appliance of ``kind``."""
    value = version_tuple(version)
    meets = value >= (*MINIMUM_VERSION.get(kind, MINIMUM_VERSION["esa"]), 0, 0)
    return meets, kind == "sma" or value >= QUICK_START_BUILD


_VERSION_LINE = re.compile(r"^\s*Version:\s*(\d+(?:\.\d+)*(?:-\d+)?)", re.MULTILINE)


def version_from_cli(text: str) -> str | None:
    """The ``Version:`` value of the CLI's ``version`` output (``13.0.0-392``), if any."""
    m = _VERSION_LINE.search(text)
    return m.group(1) if m else None


@dataclass(frozen=True)
class CloudPageLabels:
    """How Network > Cloud Service Settings names its rows, per release line and product.

    The Threat Response era (ESA 13.x, seeds 002/004) says "Threat Response" / "Threat Response Server"; the
    SecureX-era and gateway pages say "Cloud Service(s)" / "SecureX Server" / "Cisco Secure Server" (seeds
    000/001). A reader tries them in order, so one reader serves every release; a lab whose page differs names
    its labels in the testbed's ``deviations.cloud_page_labels``.
    """

    feature: tuple[str, ...] = ("Threat Response", "Cloud Service", "Cisco Cloud Services")
    server: tuple[str, ...] = ("Threat Response Server", "SecureX Server", "Cisco Secure Server")
    status: tuple[str, ...] = ("Status",)
    token_field: str = "Registration Token"
    register_button: str = "Register"
    deregister_button: str = "Deregister"


CLOUD_PAGE = CloudPageLabels()
REGISTERED = "successfully registered"  # ENA-5/REG-2: "The appliance is successfully registered ..."
SETTLING = ("in progress", "is busy")  # states that end by themselves "after a few minutes"
REGISTRATION_FAILED = "registration failed"

# The testbed's deadlines (docs/testbed.md), in the order a procedure meets them.
DEADLINES: tuple[str, ...] = ("cloud_ready", "registration", "deregistration", "mail_tracked")


# ---- strings the harness asserts that the documents do not give (issue 17 item 5) ----------------------
# Each is asserted only where a scenario says so in its report (Allure label ``inferred``); the source says
# where the wording comes from instead of the seeds.
NOTHING_TO_COMMIT = "There is no data to commit."
INFERRED_STRINGS: dict[str, str] = {
    NOTHING_TO_COMMIT: "reference/asyncos.md 1.3 (AsyncOS CLI reference), not the seeds",
    "Smart Software Licensing": "PRE-6 names the feature; the refusal's wording is not in the seeds",
    "Deregister the appliance": "REG-7 states the rule; the refusal's wording is not in the seeds",
    "The registration failed because of an invalid or expired token.": "TS-4 states the cause; the status "
    "line's wording is not in the seeds",
    "APJC (api.apj.sse.itd.cisco.com)": "seed 000 names APJC and its FQDN; the choice's label follows the "
    "AMERICAS/EUROPE labels of seeds 002-004",
    "Selected threat response server is api.apj.sse.itd.cisco.com.": "seed 003's SETTRS sentence with the APJC "
    "FQDN of seed 000",
}


def inferred_in(text: str) -> list[str]:
    """The inferred strings ``text`` asserts (whitespace-insensitive)."""
    flat = " ".join(text.split())
    return [s for s in INFERRED_STRINGS if s in flat]
