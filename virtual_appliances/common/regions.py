"""The regions of the documents and the FQDNs that belong to each."""

from __future__ import annotations

from dataclasses import dataclass

EST_FQDN = "est.sco.cisco.com"


@dataclass(frozen=True)
class Region:
    key: str  # nam | eu | apjc
    server_name: str  # AMERICAS | EUROPE | APJC, as the appliance names its servers
    sse_api: str  # the FQDN appliances register with
    sse_admin: str  # the SSE portal host, where tokens are generated
    ctr: str  # Threat Response / SecureX API (IROH)
    private_intel: str  # CTIA private intelligence (casebooks)

    @property
    def server_label(self) -> str:
        """The choice as the GUI and CLI show it, e.g. ``AMERICAS (api-sse.cisco.com)``."""
        return f"{self.server_name} ({self.sse_api})"


REGIONS: dict[str, Region] = {
    r.key: r
    for r in (
        Region("nam", "AMERICAS", "api-sse.cisco.com", "admin.sse.itd.cisco.com",
               "visibility.amp.cisco.com", "private.intel.amp.cisco.com"),
        Region("eu", "EUROPE", "api.eu.sse.itd.cisco.com", "admin.eu.sse.itd.cisco.com",
               "visibility.eu.amp.cisco.com", "private.intel.eu.amp.cisco.com"),
        Region("apjc", "APJC", "api.apj.sse.itd.cisco.com", "admin.apj.sse.itd.cisco.com",
               "visibility.apjc.amp.cisco.com", "private.intel.apjc.amp.cisco.com"),
    )
}


def region_by_server(server_name: str) -> Region:
    for region in REGIONS.values():
        if region.server_name == server_name.upper():
            return region
    raise KeyError(server_name)


def region_by_sse_fqdn(fqdn: str) -> Region:
    for region in REGIONS.values():
        if region.sse_api == fqdn:
            return region
    raise KeyError(fqdn)


def all_fqdns() -> list[str]:
    """Every FQDN the lab's DNS answers and the netlab serves."""
    names = [EST_FQDN]
    for r in REGIONS.values():
        names += [r.sse_api, r.sse_admin, r.ctr, r.private_intel]
    return names
