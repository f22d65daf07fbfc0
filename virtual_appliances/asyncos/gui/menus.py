"""The tab bars of the ESA and the SMA; pages this simulator does not have are listed greyed out."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import ApplianceSpec, Kind
from ..templates.pages import MenuGroup, MenuItem, Tab
from .paths import ACCOUNT_PATH, CLOUD_PATH, TRACKING_PATH


def _menu(*labels: str, links: dict[str, str] | None = None) -> tuple[MenuItem, ...]:
    links = links or {}
    return tuple(MenuItem(label, links.get(label)) for label in labels)


def esa_tabs() -> tuple[Tab, ...]:
    """The ESA tab bar (seed 004)."""
    return (
        Tab("monitor", "Monitor", "/monitor", (
            MenuGroup(None, _menu("My Dashboard", "Overview", "Incoming Mail", "Outgoing Destinations",
                                  "Outgoing Senders", "System Status")),
            MenuGroup("Tracking", _menu("Message Tracking", links={"Message Tracking": TRACKING_PATH})),
        )),
        Tab("mail_policies", "Mail Policies", "/mail_policies", (
            MenuGroup(None, _menu("Incoming Mail Policies", "Outgoing Mail Policies", "Host Access Table (HAT)",
                                  "Recipient Access Table (RAT)", "Destination Controls", "Address Lists")),
        )),
        Tab("security_services", "Security Services", "/security_services", (
            MenuGroup(None, _menu("IronPort Anti-Spam", "Sophos", "Advanced Malware Protection",
                                  "Outbreak Filters", "URL Filtering")),
        )),
        Tab("network", "Network", "/network", (
            MenuGroup(None, _menu("IP Interfaces", "Listeners", "SMTP Routes", "DNS", "Routing", "SMTP Call-Ahead",
                                  "Bounce Profiles", "SMTP Authentication", "Incoming Relays", "Certificates",
                                  "Cloud Service Settings", "CRL Sources",
                                  links={"Cloud Service Settings": CLOUD_PATH})),
        )),
        Tab("system_administration", "System Administration", "/system_administration", (
            MenuGroup(None, _menu("Trace", "Alerts", "Log Subscriptions", "Users", "User Roles", "Network Access",
                                  "LDAP", "Account Settings", "System Time", "Configuration Summary",
                                  "Feature Keys", links={"Account Settings": ACCOUNT_PATH})),
        )),
    )


def sma_tabs() -> tuple[Tab, ...]:
    """The SMA tab bar: Network > Cloud Service Settings lives under Management Appliance (seed 003)."""
    return (
        Tab("management_appliance", "Management Appliance", "/management_appliance", (
            MenuGroup("Centralized Services", _menu("System Status", "Security Appliances")),
            MenuGroup("Network", _menu("IP Interfaces", "SMTP Routes", "DNS", "Routing", "Certificates",
                                       "Cloud Service Settings", links={"Cloud Service Settings": CLOUD_PATH})),
            MenuGroup("System Administration", _menu("Users", "Log Subscriptions", "Account Settings",
                                                     links={"Account Settings": ACCOUNT_PATH})),
        )),
        Tab("email", "Email", "/email", (
            MenuGroup("Reporting", _menu("Overview", "Incoming Mail")),
            MenuGroup("Message Tracking", _menu("Message Tracking", links={"Message Tracking": TRACKING_PATH})),
        )),
        Tab("web", "Web", "/web", (MenuGroup("Reporting", _menu("Overview", "Users", "Web Sites")),)),
    )


def tabs_for(spec: ApplianceSpec) -> tuple[Tab, ...]:
    return sma_tabs() if spec.kind is Kind.SMA else esa_tabs()


def tab_of(tabs: Sequence[Tab], path: str) -> str | None:
    for tab in tabs:
        # Sub-pages (e.g. .../edit) belong to the tab of the page they hang off.
        if path == tab.href or any(i.href and path.startswith(i.href) for g in tab.groups for i in g.items):
            return tab.key
    return None
