"""What one scenario has seen so far, by area: each step writes and reads only its area's record.

``world.seen.cli`` the last CLI dialog; ``world.seen.gui`` whether the page is the last action's;
``world.seen.sse`` tokens and device lists; ``world.seen.ctr`` modules, investigations, response actions and the
ribbon's sign-in; ``world.seen.mail`` the last message sent; ``world.seen.net`` the network check and proxy log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.errors import ApiError, CliError, DriverError


@dataclass
class CliRun:
    command: str
    output: str
    error: CliError | None = None


@dataclass
class CliSeen:
    run: CliRun | None = None
    version_text: str = ""  # the last ``version`` output (PRE-5)
    settrs: str = ""  # what the last SETTRS said (the CLI shows the chosen server only there)
    registering: bool = False  # a token was submitted: a CLI that asks for one again means it failed


@dataclass
class GuiSeen:
    page_fresh: bool = False  # the GUI page is the result of the scenario's last action (not stale)


@dataclass
class SseSeen:
    tokens: list[str] = field(default_factory=list)
    token_batch: Any = None  # the last batch generated (REG-1: up to 100 tokens)
    token_file: str | None = None  # where "Save To File" put the batch
    error: ApiError | None = None  # what SSE refused, if it did
    listed: list[dict[str, Any]] = field(default_factory=list)  # the last device list (VER-1)
    listed_where: str = ""


@dataclass
class CtrSeen:
    choices: list[dict[str, Any]] = field(default_factory=list)  # the Registered Device choices (VER-3)
    module: dict[str, Any] | None = None  # the module instance the scenario added
    module_error: ApiError | None = None
    investigation: dict[str, Any] | None = None
    investigated: str = ""  # the query of the last investigation
    investigate_region: str | None = None
    action_result: dict[str, Any] | None = None  # the last response action (REM)
    action_error: DriverError | None = None
    quick_start: str = ""  # the module type's Quick Start text (PRE-5)
    ribbon: dict[str, Any] = field(default_factory=dict)  # the ribbon's API client and sign-in (RIB)


@dataclass
class MailSeen:
    sent: dict[str, Any] = field(default_factory=dict)


@dataclass
class NetSeen:
    netcheck: Any = None  # the last network check's report (harness.net.NetcheckReport)
    proxy_log_since: int = 0  # the lab proxy's log position when the appliance was routed through it


@dataclass
class Seen:
    cli: CliSeen = field(default_factory=CliSeen)
    gui: GuiSeen = field(default_factory=GuiSeen)
    sse: SseSeen = field(default_factory=SseSeen)
    ctr: CtrSeen = field(default_factory=CtrSeen)
    mail: MailSeen = field(default_factory=MailSeen)
    net: NetSeen = field(default_factory=NetSeen)
