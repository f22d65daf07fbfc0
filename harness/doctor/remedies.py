"""The remedies, worded after the documents (seeds 002/004 troubleshooting, REQUIREMENTS.md)."""

from __future__ import annotations

SSE_PORTAL = {"nam": "admin.sse.itd.cisco.com", "eu": "admin.eu.sse.itd.cisco.com",
              "apjc": "admin.apj.sse.itd.cisco.com"}
SERVER = {"nam": "AMERICAS", "eu": "EUROPE", "apjc": "APJC"}  # the appliance's server choices (ENA-3)
CTR_SERVER = {"nam": "visibility.amp.cisco.com", "eu": "visibility.eu.amp.cisco.com",
              "apjc": "visibility.apjc.amp.cisco.com"}

PRE_5 = ("PRE-5/TS-5: ESA needs AsyncOS 13.0 or later (module quick start: 13.0.0-314); an SMA 12.5 or later; "
         "CES or SMA-managed ESAs integrate through the SMA")
TS_1 = "TS-1/PRE-2: Enable Cisco Threat Response on SSE's Cloud Services tab"
TS_1_UNCHECKABLE = ("TS-1/PRE-2: check in the SSE portal that Cisco Threat Response is enabled on the Cloud Services "
                    "tab (the testbed gives no SSE admin API for this region)")
ENA_2 = ("ENA-2: Network > Cloud Service Settings > Edit Settings > check Enable > choose the server > Submit > "
         "Commit Changes")
TS_3 = "TS-3/ENA-5: Commit the change that enables Threat Response (Commit Changes; in the CLI: commit)"
VER_3 = ("VER-3: In Threat Response add an Email Security Appliance module (SMA: the SMA email module) with this "
         "appliance as Registered Device (Request Timeframe 30 days), then Save")
VER_4 = "VER-4: send a test mail through the appliance and find it in Monitor > Message Tracking"
CONNECTION = "check the testbed's connection and credentials for this appliance, and that it is up"


def ts_4(region: str) -> str:
    return ("TS-4/REG-8: Generate the token in the SSE of the appliance's region (NAM: admin.sse.itd.cisco.com, "
            f"EU: admin.eu.sse.itd.cisco.com; this testbed: {SSE_PORTAL.get(region, region)}); tokens expire: "
            "use a fresh one and Register (REG-2)")


def wrong_region(region: str) -> str:
    return (f"REG-6/TS-4: the appliance is registered elsewhere: deregister it, choose the "
            f"{SERVER.get(region, region)} server, "
            f"commit, and register with a token generated in {SSE_PORTAL.get(region, region)}")


def ts_2(region: str) -> str:
    return ('TS-2: Use the investigate syntax type:"value" (e.g. cisco_mid:"12345") and the Threat Response server '
            f"of the appliance's region ({CTR_SERVER.get(region, region)}); check the module's Request Timeframe")
