"""Network checks of the firewall prerequisite (PRE-3, PRE-4): resolve each FQDN of the region through
the testbed's resolver, then probe HTTPS: TCP connect, raw SYN (where allowed), TLS with SNI, and
CONNECT through the proxy when one is configured. Only protocols: nothing here imports the simulators.

    from harness.net import check
    report = check(testbed, timeout=3.0)          # testbed: path, mapping, model or NetSettings
    assert report.ok, report.table()
    report.verdict("api-sse.cisco.com")           # Verdict.REACHABLE / FILTERED / ...
"""

from .appliance_probe import check_from_appliance
from .check import DEFAULT_TIMEOUT, check
from .fqdns import EST_FQDN, REGION_FQDNS, required_fqdns
from .report import FqdnResult, NetcheckReport
from .settings import NetSettings, ProxySpec, SettingsError
from .verdict import Verdict

__all__ = [
    "DEFAULT_TIMEOUT",
    "EST_FQDN",
    "REGION_FQDNS",
    "FqdnResult",
    "NetSettings",
    "NetcheckReport",
    "ProxySpec",
    "SettingsError",
    "Verdict",
    "check",
    "check_from_appliance",
    "required_fqdns",
]
