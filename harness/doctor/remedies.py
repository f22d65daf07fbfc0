"""The remedies, worded after the documents (seeds 002/004 troubleshooting, 000/001/003 for the SMA and the
content security gateways, REQUIREMENTS.md), per product where the documents word them differently."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..facts import PRODUCT_NAME as PRODUCT
from ..facts import REGION_TABLE
from ..facts import SERVER_OF_REGION as SERVER  # the appliance's server choices (ENA-3)

SSE_PORTAL = {r.name: r.sse_portal for r in REGION_TABLE}
CTR_SERVER = {r.name: urlsplit(r.ctr_base).hostname for r in REGION_TABLE}

# PRE-5/TS-5 (seeds 002/004 troubleshooting): the SMA and a directly integrated ESA have different minimums. The
# documents give no number of their own for the content security gateways (seed 000/001): an email gateway
# registers directly and uses the Email Security Appliance module (seed 001), so the direct ESA minimum applies.
PRE_5 = {
    "esa": ("PRE-5/TS-5: ESA needs AsyncOS 13.0 or later (module quick start: 13.0.0-314); an SMA 12.5 or later; "
            "CES or SMA-managed ESAs integrate through the SMA"),
    "sma": ("PRE-5/TS-5: an SMA needs AsyncOS 12.5 or later: upgrade the SMA; CES customers and the ESAs it "
            "manages integrate through it and need no integration of their own (VER-7)"),
    "gateway": ("PRE-5/TS-5: an email gateway integrated directly needs AsyncOS 13.0 or later, as an ESA (module "
                "quick start: 13.0.0-314); one managed by an SMA integrates through the SMA (SMA 12.5 or later)"),
}
TS_1 = "TS-1/PRE-2: Enable Cisco Threat Response on SSE's Cloud Services tab"
TS_1_UNCHECKABLE = ("TS-1/PRE-2: check in the SSE portal that Cisco Threat Response is enabled on the Cloud Services "
                    "tab (the testbed gives no SSE admin API for this region)")
ENA_2 = ("ENA-2: Network > Cloud Service Settings > Edit Settings > check Enable > choose the server > Submit > "
         "Commit Changes")
# seed 000 (SMA, SecureX era): "Edit Global Settings", no server choice on the form
ENA_2_SMA_GLOBAL = ("ENA-2: Network > Cloud Service Settings > Edit Global Settings > check Enable > Submit > "
                    "Commit Changes; the Register button appears after a few minutes")
# ENA-8 (seeds 000/001): the two content security gateway variants, told apart by the page's row label
ENA_8 = {
    "Cloud Service": ("ENA-8: Network > Cloud Service Settings > Enable > check Enable Cloud Service > choose the "
                      "SecureX server > Submit > Commit Changes"),
    "Cisco Cloud Services": ("ENA-8: Network > Cloud Service Settings > Enable > check Enable Cisco Cloud Services > "
                             "choose the Cisco Secure server > Submit > Commit Changes; the Register button appears "
                             "within a few minutes"),
}
VER_3 = {
    "esa": ("VER-3: In Threat Response add an Email Security Appliance module with this appliance as Registered "
            "Device (Request Timeframe 30 days), then Save; ESAs reporting to an SMA can use the SMA Email module"),
    "sma": ("VER-3: In Threat Response add the SMA Email module (Settings > Integration Modules, Add New Module) with "
            "this SMA as Registered Device (Request Timeframe 30 days), then Save; SMA Web (VER-8) does not search "
            "mail and needs the SMA Email module first"),
    "gateway": ("VER-3: In Threat Response add an Email Security Appliance module (the email gateway module) with "
                "this gateway as Registered Device (Request Timeframe 30 days), then Save"),
}
VER_4 = {
    "esa": "VER-4: send a test mail through the appliance and find it in Monitor > Message Tracking",
    # VER-7: the SMA centralises its ESAs' tracking; mail passes through an ESA, not through the SMA
    "sma": ("VER-4/VER-7: send a test mail through an ESA this SMA manages and find it in the SMA's centralised "
            "Message Tracking"),
    "gateway": "VER-4: send a test mail through the email gateway and find it in Monitor > Message Tracking",
}
CONNECTION = "check the testbed's connection and credentials for this appliance, and that it is up"


def product(kind: str) -> str:
    return PRODUCT.get(kind, kind.upper())


def pre_5(kind: str) -> str:
    return PRE_5.get(kind, PRE_5["esa"])


def enable(kind: str, feature: str | None, edit_button: str | None) -> str:
    """How to enable the integration on this appliance, in the wording of its own page."""
    if kind == "gateway":
        return ENA_8.get(feature or "", " | ".join(ENA_8.values()))
    if kind == "sma" and edit_button == "Edit Global Settings":
        return ENA_2_SMA_GLOBAL
    return ENA_2


def ts_3(feature: str | None) -> str:
    """TS-3/ENA-5, naming the setting as the page does (gateways: "Cloud Service", "Cisco Cloud Services")."""
    name = feature or "Threat Response"
    return f"TS-3/ENA-5: Commit the change that enables {name} (Commit Changes; in the CLI: commit)"


def ver_3(kind: str) -> str:
    return VER_3.get(kind, VER_3["esa"])


def ver_4(kind: str) -> str:
    return VER_4.get(kind, VER_4["esa"])


def ts_4(region: str) -> str:
    return ("TS-4/REG-8: Generate the token in the SSE of the appliance's region (NAM: admin.sse.itd.cisco.com, "
            f"EU: admin.eu.sse.itd.cisco.com; this testbed: {SSE_PORTAL.get(region, region)}); tokens expire: "
            "use a fresh one and Register (REG-2)")


def wrong_region(region: str, server_label: str = "Threat Response Server") -> str:
    server = server_label.removesuffix(":").strip() or "server"
    return (f"REG-6/TS-4: the appliance is registered elsewhere: deregister it, choose the "
            f"{SERVER.get(region, region)} {server}, "
            f"commit, and register with a token generated in {SSE_PORTAL.get(region, region)}")


def ts_2(region: str) -> str:
    return ('TS-2: Use the investigate syntax type:"value" (e.g. cisco_mid:"12345") and the Threat Response server '
            f"of the appliance's region ({CTR_SERVER.get(region, region)}); check the module's Request Timeframe")
