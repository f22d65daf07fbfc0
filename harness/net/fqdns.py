"""Which FQDNs an appliance of a region must reach on port 443 (PRE-3), with the documents' wording.

The harness keeps its own copy of this table instead of importing the simulators' region table: it
is what the documents say (seeds 000 and 003), and real gear is checked against the same list.
"""

from __future__ import annotations

from ..facts import EST_APPLICABILITY, EST_FQDN, REGION_TABLE

# region -> the SSE device API FQDN of that region
REGION_FQDNS: dict[str, str] = {r.name: r.sse_api for r in REGION_TABLE}

# "(applicable for ...)" as the firewall list of seed 003 words it; APJC from seed 000 (SecureX era).
APPLICABILITY: dict[str, str] = {**{r.sse_api: r.applicability for r in REGION_TABLE}, EST_FQDN: EST_APPLICABILITY}


def required_fqdns(region: str) -> list[str]:
    """The region's SSE FQDN, then est.sco.cisco.com (every region), as PRE-3 lists them."""
    try:
        return [REGION_FQDNS[region.lower()], EST_FQDN]
    except KeyError:
        raise ValueError(f"unknown region {region!r}: one of {list(REGION_FQDNS)}") from None


def firewall_remedy(fqdn: str, https_port: int = 443) -> str:
    """PRE-3's instruction for one FQDN: 'Open HTTPS (in and out) port 443 on the firewall for ...'."""
    applicability = APPLICABILITY.get(fqdn)
    text = f"Open HTTPS (in and out) port 443 on the firewall for {fqdn}"
    if applicability:
        text += f" ({applicability})"
    if https_port != 443:
        text += f"; this lab serves HTTPS on port {https_port}"
    return text


def proxy_remedy(fqdn: str, proxy: str, answer: str) -> str:
    """PRE-4: the 443 rule applies 'only when not using a proxy server'; with one, the proxy must pass."""
    return (f"Allow HTTPS (CONNECT to port 443) to {fqdn} on the proxy server {proxy} "
            f"(proxy answered: {answer}): with a proxy server the appliance reaches the cloud through the "
            "proxy; the firewall rule for port 443 applies only when not using a proxy server")
