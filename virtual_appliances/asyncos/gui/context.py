"""What every page handler gets: the appliance, the sessions, and the helpers to answer a request.

The context is stored on the aiohttp application (``GUI``); handlers are plain functions of the request
that read it with :func:`gui`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from .. import messages as msg
from ..model import Appliance, ApplianceSpec
from ..releases import CloudLabels
from ..templates import pages as tpl
from ..templates.pages import Chrome, Tab
from .menus import tab_of, tabs_for
from .sessions import SESSION, LoginKeys, SessionStore


@dataclass
class GuiContext:
    appliance: Appliance
    sessions: SessionStore = field(default_factory=SessionStore)
    login_keys: LoginKeys = field(default_factory=LoginKeys)
    tabs: tuple[Tab, ...] = ()

    def __post_init__(self) -> None:
        # The tabs (and so the routes) follow the kind, fixed for an appliance's life.
        self.tabs = self.tabs or tabs_for(self.appliance.spec)

    @property
    def home(self) -> str:
        """Where login lands: Monitor (ESA), Management Appliance (SMA)."""
        return self.tabs[0].href

    # Labels and titles are read from the spec on every page: the lab may change the model, version
    # or gateway variant through the control plane, as an upgrade or another appliance would.
    @property
    def labels(self) -> CloudLabels:
        return self.appliance.spec.release.labels

    @property
    def model(self) -> str:
        return product_title(self.appliance.spec)[0]

    @property
    def product(self) -> str:
        return product_title(self.appliance.spec)[1]

    def render(self, request: web.Request, title: str, content: str, status: int = 200) -> web.Response:
        session = request[SESSION]
        chrome = Chrome(model=self.model, product=self.product, hostname=self.appliance.spec.hostname,
                        username=session.username, tabs=self.tabs, active_tab=tab_of(self.tabs, request.path),
                        has_pending=self.appliance.has_pending, path=request.path, flashes=session.take_flashes())
        return html(tpl.layout(chrome, title, content, msg.NO_CHANGES_PENDING), status)

    def server_options(self) -> list[tuple[str, str]]:
        return [(name, self.appliance.server_label(name)) for name in self.appliance.server_names()]


GUI = web.AppKey("gui", GuiContext)


def gui(request: web.Request) -> GuiContext:
    return request.app[GUI]


def csrf(request: web.Request) -> str:
    return request[SESSION].csrf


def flash(request: web.Request, kind: str, text: str) -> None:
    request[SESSION].flash(kind, text)


def product_title(spec: ApplianceSpec) -> tuple[str, str]:
    """The header brand: ("Cisco C100V", "Email Security Virtual Appliance") as in seed 004."""
    virtual = " Virtual" if spec.model.upper().endswith("V") else ""
    return f"Cisco {spec.model}", f"{spec.release.gui_product}{virtual} Appliance"


def safe_referrer(value: str | None, default: str) -> str:
    """Only same-origin relative paths: the referrer comes from a form field or the query string and must
    not send the browser off the appliance. Browsers drop tabs and newlines from URLs and read ``\\`` as
    ``/``, so ``/\\t/evil.example`` means ``//evil.example``: any control character, space or backslash,
    a second leading slash, or a scheme, and the default page is used instead."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if any(ch <= " " or ch == "\x7f" or ch == "\\" for ch in value):
        return default
    return value


def redirect(location: str, status: int = 303) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})
