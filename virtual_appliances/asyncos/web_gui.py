"""The appliance's legacy web interface (HTTPS, server-rendered HTML, cookie session, no JavaScript).

Pages follow the seed screenshots (002/004: ESA C100V 13.0; 000: SecureX era and content security
gateways) and the paths of reference/asyncos.md section 3. The Cloud Service Settings page always shows
the *committed* configuration: changes submitted on Edit Settings are only staged in the model until the
Uncommitted Changes page commits them (ENA-5). Registering needs no commit (REG-3).

The lab runner wraps :func:`gui_app` in a TLS listener and passes its request-logging middleware.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from math import ceil
from urllib.parse import urlencode

from aiohttp import web

from ..common.http import date_from_clock
from . import messages as msg
from .model import Appliance, ApplianceError, ApplianceSpec, Kind, RegState
from .releases import CloudLabels
from .templates import pages as tpl
from .templates.pages import Chrome, MenuGroup, MenuItem, Tab, esc
from .tracking import TrackedMessage

USERNAME = "admin"  # the appliance's administrator account (testbed credentials)
SESSION_COOKIE = "sid"
IDLE_TIMEOUT_S = 30 * 60  # the default GUI session timeout; real seconds, so advancing the lab clock keeps you in
PUBLIC_PATHS = frozenset({"/login"})

CLOUD_PATH = "/network/cloud_service_settings"
EDIT_PATH = f"{CLOUD_PATH}/edit"
REGISTER_PATH = f"{CLOUD_PATH}/register"
DEREGISTER_PATH = f"{CLOUD_PATH}/deregister"
REREGISTER_PATH = f"{CLOUD_PATH}/reregister"
COMMIT_PATH = "/commit"
ACCOUNT_PATH = "/system_administration/account_settings"
TRACKING_PATH = "/monitor_email_tracking/message_tracking"
DETAILS_PATH = f"{TRACKING_PATH}/details"

MATCH_OPERATORS = (("match_begins", "Begins With"), ("match_is", "Is"), ("match_contains", "Contains"))
ITEMS_PER_PAGE = 20
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---- shared with the REST API -------------------------------------------------------------------
def asyncos_time(moment: datetime, seconds: bool = True, zone: bool = True) -> str:
    """``31 Jul 2023 15:20:45 (GMT +00:00)``; month names fixed so the locale cannot change them."""
    clock = f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"
    text = f"{moment.day:02d} {MONTHS[moment.month - 1]} {moment.year} {clock}"
    return f"{text} (GMT +00:00)" if zone else text


Responder = Callable[[int], web.StreamResponse]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def fault_middleware(appliance: Appliance, respond: Responder) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Injected faults (control plane): a delay before every reply, or every reply with one status."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = appliance.faults
        if faults.slow_reply_ms:
            await asyncio.sleep(faults.slow_reply_ms / 1000)  # network latency is wall-clock time
        if faults.http_status:
            return respond(faults.http_status)
        return await handler(request)

    return middleware


def status_reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# ---- sessions -----------------------------------------------------------------------------------
@dataclass
class Session:
    sid: str
    csrf: str  # the CSRFKey every POST of this session must carry
    username: str | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    last_seen: float = field(default_factory=time.monotonic)

    def flash(self, kind: str, text: str) -> None:
        self.flashes.append((kind, text))

    def take_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out


SESSION = web.RequestKey("session", Session)  # the caller's session; absent on public pages without one


class SessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def new(self, username: str | None = None) -> Session:
        self._expire()
        session = Session(sid=secrets.token_urlsafe(24), csrf=secrets.token_hex(16), username=username)
        self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        session = self._sessions.get(sid or "")
        if session is None or time.monotonic() - session.last_seen > IDLE_TIMEOUT_S:
            return None
        session.last_seen = time.monotonic()
        return session

    def drop(self, sid: str) -> None:
        self._sessions.pop(sid, None)

    def _expire(self) -> None:
        cutoff = time.monotonic() - IDLE_TIMEOUT_S
        for sid in [s for s, v in self._sessions.items() if v.last_seen < cutoff]:
            del self._sessions[sid]


# ---- what the appliance calls things -----------------------------------------------------------
def product_title(spec: ApplianceSpec) -> tuple[str, str]:
    """The header brand: ("Cisco C100V", "Email Security Virtual Appliance") as in seed 004."""
    virtual = " Virtual" if spec.model.upper().endswith("V") else ""
    return f"Cisco {spec.model}", f"{spec.release.gui_product}{virtual} Appliance"


def _menu(*labels: str, links: dict[str, str] | None = None) -> tuple[MenuItem, ...]:
    links = links or {}
    return tuple(MenuItem(label, links.get(label)) for label in labels)


def esa_tabs() -> tuple[Tab, ...]:
    """The ESA tab bar (seed 004); pages this simulator does not have are listed greyed out."""
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


def _tab_of(tabs: Sequence[Tab], path: str) -> str | None:
    for tab in tabs:
        # Sub-pages (e.g. .../edit) belong to the tab of the page they hang off.
        if path == tab.href or any(i.href and path.startswith(i.href) for g in tab.groups for i in g.items):
            return tab.key
    return None


def safe_referrer(value: str | None, default: str) -> str:
    """Only local paths: the referrer comes from a form field and must not redirect off the appliance."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def redirect(location: str, status: int = 303) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})


# ---- the application ---------------------------------------------------------------------------
def gui_app(appliance: Appliance, middlewares: Sequence = ()) -> web.Application:
    gui = Gui(appliance)
    app = web.Application(middlewares=[*middlewares, fault_middleware(appliance, gui.fault_page),
                                       gui.session_middleware])
    app.add_routes(gui.routes())
    date_from_clock(app, appliance.clock)
    return app


class Gui:
    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self.sessions = SessionStore()
        # The tabs (and so the routes) follow the kind, fixed for an appliance's life.
        self.tabs = tabs_for(appliance.spec)
        self.home = self.tabs[0].href  # where login lands: Monitor (ESA), Management Appliance (SMA)

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

    def routes(self) -> list[web.RouteDef]:
        sections = [web.get(tab.href, self.section) for tab in self.tabs]
        return [
            web.get("/", self.root),
            web.get("/login", self.login_form),
            web.post("/login", self.login),
            web.get("/logout", self.logout),
            *sections,
            web.get(CLOUD_PATH, self.cloud_settings),
            web.get(EDIT_PATH, self.edit_form),
            web.post(EDIT_PATH, self.edit_submit),
            web.post(REGISTER_PATH, self.register),
            web.post(DEREGISTER_PATH, self.deregister),
            web.get(REREGISTER_PATH, self.reregister_form),
            web.post(REREGISTER_PATH, self.reregister_submit),
            web.get(COMMIT_PATH, self.commit_page),
            web.post(COMMIT_PATH, self.commit_submit),
            web.get(ACCOUNT_PATH, self.account_settings),
            web.post(ACCOUNT_PATH, self.account_submit),
            web.get(TRACKING_PATH, self.tracking),
            web.get(DETAILS_PATH, self.tracking_details),
        ]

    # ---- plumbing ----------------------------------------------------------------------------
    def fault_page(self, status: int) -> web.StreamResponse:
        if status < 200 or status in (204, 304):
            return web.Response(status=status)
        return _html(tpl.error_page(status, status_reason(status)), status)

    @web.middleware
    async def session_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is not None:
            request[SESSION] = session
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        if session is None or not session.username:
            if request.method == "GET":
                return redirect("/login?" + urlencode({"referrer": request.path_qs}), 302)
            return redirect("/login", 303)
        if request.method == "POST":
            form = await request.post()
            if not hmac.compare_digest(str(form.get(tpl.CSRF_FIELD, "")), session.csrf):
                self.flash(request, "error", msg.CSRF_INVALID)
                return self.render(request, "Forbidden", "", 403)
        return await handler(request)

    def render(self, request: web.Request, title: str, content: str, status: int = 200) -> web.Response:
        session: Session = request[SESSION]
        chrome = Chrome(model=self.model, product=self.product, hostname=self.appliance.spec.hostname,
                        username=session.username or "", tabs=self.tabs,
                        active_tab=_tab_of(self.tabs, request.path), has_pending=self.appliance.has_pending,
                        path=request.path, flashes=session.take_flashes())
        return _html(tpl.layout(chrome, title, content, msg.NO_CHANGES_PENDING), status)

    @staticmethod
    def csrf(request: web.Request) -> str:
        return request[SESSION].csrf

    @staticmethod
    def flash(request: web.Request, kind: str, text: str) -> None:
        request[SESSION].flash(kind, text)

    # ---- login -------------------------------------------------------------------------------
    def _login_page(self, session: Session | None, referrer: str, error: str | None,
                    status: int = 200, username: str = "") -> web.Response:
        session = session or self.sessions.new()
        page = tpl.login_page(self.model, self.product, session.csrf, referrer, error, username)
        response = _html(page, status)
        _set_cookie(response, session)
        return response

    async def root(self, request: web.Request) -> web.StreamResponse:
        return redirect(self.home, 302)

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        session: Session | None = request.get(SESSION)
        referrer = safe_referrer(request.query.get("referrer"), self.home)
        if session and session.username:
            return redirect(referrer, 302)
        return self._login_page(session, referrer, None)

    async def login(self, request: web.Request) -> web.StreamResponse:
        session: Session | None = request.get(SESSION)
        form = await request.post()
        referrer = safe_referrer(str(form.get("referrer", "")), self.home)
        username = str(form.get("username", ""))
        if session is None or not hmac.compare_digest(str(form.get(tpl.CSRF_FIELD, "")), session.csrf):
            return self._login_page(None, referrer, msg.CSRF_INVALID, status=403, username=username)
        password = str(form.get("password", ""))
        if not (username == USERNAME and hmac.compare_digest(password.encode(), self.appliance.password.encode())):
            return self._login_page(session, referrer, msg.LOGIN_FAILED, username=username)
        self.sessions.drop(session.sid)  # a fresh session id after login (no session fixation)
        response = redirect(referrer)
        _set_cookie(response, self.sessions.new(username))
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self.sessions.drop(request[SESSION].sid)
        response = redirect("/login", 302)
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def section(self, request: web.Request) -> web.StreamResponse:
        tab = next(t for t in self.tabs if t.href == request.path)
        groups = []
        for group in tab.groups:
            items = "".join(
                f'<li><a href="{esc(i.href)}">{esc(i.label)}</a></li>' if i.href
                else f'<li class="muted">{esc(i.label)}</li>' for i in group.items
            )
            title = f"<h3>{esc(group.title)}</h3>" if group.title else ""
            groups.append(f"{title}<ul>{items}</ul>")
        return self.render(request, tab.label, "".join(groups))

    # ---- Network > Cloud Service Settings ---------------------------------------------------------
    async def cloud_settings(self, request: web.Request) -> web.StreamResponse:
        a = self.appliance
        committed = a.committed  # never the pending configuration (ENA-5)
        edit = self.labels.edit if committed.enabled else self.labels.edit_when_disabled
        services = tpl.box("Cloud Services", [
            (tpl.label(self.labels.feature), "Enabled" if committed.enabled else "Disabled"),
            (tpl.label(self.labels.server), esc(a.server_label(committed.server))),
        ], tpl.link_button(edit, EDIT_PATH, "edit_settings"), box_id="cloud_services")
        return self.render(request, "Cloud Service Settings", services + self._registration_box(request))

    def _registration_box(self, request: web.Request) -> str:
        a = self.appliance
        state = a.state
        csrf = self.csrf(request)
        status_row = (tpl.label("Status:"), f'<span id="status">{esc(a.status_message())}</span>')
        if a.accepts_token:
            rows = [status_row] if state is RegState.FAILED else []
            rows.append((tpl.label("Registration Token:", help_mark=True), tpl.text_input("token")))
            inner = tpl.box("Cloud Services Settings", rows, tpl.submit_button("Register", "register", primary=True),
                            box_id="cloud_services_settings")
            return tpl.post_form(REGISTER_PATH, csrf, inner, "register_form")
        if state is RegState.REGISTERED:
            buttons = tpl.submit_button("Deregister", "deregister")
            if a.spec.release.gui_reregister:  # REG-9
                buttons = tpl.link_button("Reregister", REREGISTER_PATH, "reregister") + " " + buttons
            inner = tpl.box("Cloud Services Settings", [status_row], buttons, box_id="cloud_services_settings")
            return tpl.post_form(DEREGISTER_PATH, csrf, inner, "deregister_form")
        return tpl.box("Cloud Services Settings", [status_row], box_id="cloud_services_settings")

    def _server_options(self) -> list[tuple[str, str]]:
        return [(name, self.appliance.server_label(name)) for name in self.appliance.server_names()]

    def _edit_page(self, request: web.Request, status: int = 200) -> web.Response:
        staged = self.appliance.staged  # the edit form edits what will be committed
        selected = staged.server or self.appliance.server_names()[0]  # AMERICAS is the default (ENA-3)
        rows = [
            (tpl.label(self.labels.feature), tpl.checkbox("enabled", self.labels.enable, staged.enabled)),
            (f'<label for="server">{esc(self.labels.server_choice)}</label>',
             tpl.select("server", self._server_options(), selected)),
        ]
        actions = (f'<div class="actions">{tpl.link_button("Cancel", CLOUD_PATH, "cancel")}<span class="right">'
                   f'{tpl.submit_button("Submit", "submit", primary=True)}</span></div>')
        form = tpl.post_form(EDIT_PATH, self.csrf(request), tpl.box("Edit Cloud Services", rows) + actions,
                             "edit_form")
        return self.render(request, "Cloud Service Settings", form, status)

    async def edit_form(self, request: web.Request) -> web.StreamResponse:
        return self._edit_page(request)

    async def edit_submit(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        enabled = form.get("enabled") == "on"
        try:
            self.appliance.set_enabled(enabled)
            # Why only when enabled: the server select is greyed out while the box is unchecked.
            if enabled and form.get("server"):
                self.appliance.set_server(str(form["server"]))
        except (ApplianceError, KeyError) as exc:
            self.flash(request, "error", str(exc) if isinstance(exc, ApplianceError) else msg.SERVER_NOT_AVAILABLE)
            return self._edit_page(request, 400)
        return redirect(CLOUD_PATH)  # staged only: nothing changes until commit (ENA-5)

    async def register(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        try:
            self.appliance.register(str(form.get("token", "")))
        except ApplianceError as exc:
            self.flash(request, "error", str(exc))
        else:
            self.flash(request, "success", msg.REGISTER_INITIATED)
        return redirect(CLOUD_PATH)

    async def deregister(self, request: web.Request) -> web.StreamResponse:
        try:
            self.appliance.deregister()
        except ApplianceError as exc:
            self.flash(request, "error", str(exc))
        else:
            self.flash(request, "success", msg.DEREGISTER_INITIATED)
        return redirect(CLOUD_PATH)

    # ---- Reregister (REG-9) --------------------------------------------------------------------------
    def _require_reregister(self) -> None:
        if not self.appliance.spec.release.gui_reregister:  # REG-9
            raise web.HTTPNotFound()

    async def reregister_form(self, request: web.Request) -> web.StreamResponse:
        self._require_reregister()
        current = self.appliance.committed.server or self.appliance.server_names()[0]
        rows = [
            (tpl.label("Cisco Secure Server:"), tpl.select("server", self._server_options(), current)),
            (tpl.label("Registration Token (optional):"), tpl.text_input("token")),
        ]
        actions = (f'<div class="actions">{tpl.link_button("Cancel", CLOUD_PATH, "cancel")}<span class="right">'
                   f'{tpl.submit_button("Submit", "submit", primary=True)}</span></div>')
        form = tpl.post_form(REREGISTER_PATH, self.csrf(request), tpl.box("Reregister", rows) + actions,
                             "reregister_form")
        return self.render(request, "Cloud Service Settings", form)

    async def reregister_submit(self, request: web.Request) -> web.StreamResponse:
        self._require_reregister()
        form = await request.post()
        server = str(form.get("server", "")) or None
        token = str(form.get("token", "")).strip() or None
        if token is None and form.get("confirm") != "yes":
            return self._reregister_confirm(request, server)
        if server == self.appliance.committed.server:
            server = None  # the model commits a server change; an unchanged server is no change
        try:
            self.appliance.reregister(server, token)
        except (ApplianceError, KeyError) as exc:
            self.flash(request, "error", str(exc) if isinstance(exc, ApplianceError) else msg.SERVER_NOT_AVAILABLE)
        else:
            self.flash(request, "success", msg.REREGISTER_INITIATED)
        return redirect(CLOUD_PATH)

    def _reregister_confirm(self, request: web.Request, server: str | None) -> web.Response:
        hidden = (f'<input type="hidden" name="server" value="{esc(server or "")}">'
                  '<input type="hidden" name="confirm" value="yes">')
        dialog = (f'<table class="box" id="confirm_reregistration"><caption>{esc(msg.REREGISTER_CONFIRM_TITLE)}'
                  f"</caption><tr><td>{esc(msg.REREGISTER_CONFIRM_TEXT)}</td></tr></table>")
        actions = (f'<div class="actions">{tpl.link_button("Cancel", CLOUD_PATH, "cancel")}<span class="right">'
                   f'{tpl.submit_button("Submit", "submit", primary=True)}</span></div>')
        form = tpl.post_form(REREGISTER_PATH, self.csrf(request), hidden + dialog + actions, "confirm_form")
        return self.render(request, msg.REREGISTER_CONFIRM_TITLE, form)

    # ---- Uncommitted Changes -------------------------------------------------------------------------
    async def commit_page(self, request: web.Request) -> web.StreamResponse:
        return self._commit_page(request, safe_referrer(request.query.get("referrer"), CLOUD_PATH))

    def _commit_page(self, request: web.Request, referrer: str, status: int = 200, comment: str = "") -> web.Response:
        pending = self.appliance.has_pending
        notice = msg.UNCOMMITTED_NOTICE if pending else msg.NOTHING_TO_COMMIT
        rows = f'<tr><td colspan="2" id="notice">{esc(notice)}</td></tr>'
        if pending:
            rows += (f'<tr><th><label for="comment">Comment (optional):</label></th>'
                     f"<td>{tpl.text_input('comment', comment, 60)}</td></tr>")
        buttons = ""
        if pending:
            buttons = (tpl.submit_button("Abandon Changes", "abandon") + " "
                       + tpl.submit_button("Commit Changes", "commit", primary=True))
        body = (f'<input type="hidden" name="referrer" value="{esc(referrer)}">'
                f'<table class="box"><caption>Commit Changes</caption>{rows}</table>'
                f'<div class="actions">{tpl.link_button("Cancel", referrer, "cancel")}'
                f'<span class="right">{buttons}</span></div>')
        return self.render(request, "Uncommitted Changes", tpl.post_form(COMMIT_PATH, self.csrf(request), body,
                                                                           "commit_form"), status)

    async def commit_submit(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        referrer = safe_referrer(str(form.get("referrer", "")), CLOUD_PATH)
        comment = str(form.get("comment", ""))
        if form.get("action") == "abandon":
            self.appliance.clear()
            self.flash(request, "success", msg.CHANGES_ABANDONED)
            return redirect(referrer)
        try:
            self.appliance.commit(comment)
        except ApplianceError as exc:
            self.flash(request, "error", str(exc))
            return self._commit_page(request, referrer, 409, comment)
        self.flash(request, "success", msg.COMMITTED)
        return redirect(referrer)

    # ---- System Administration > Account Settings (REM-1) -----------------------------------------------
    async def account_settings(self, request: web.Request) -> web.StreamResponse:
        a = self.appliance
        current = tpl.box("Remediation Profile", [
            (tpl.label("Remediation Profile:"),
             f'<span id="remediation_status">{"Enabled" if a.committed.remediation_profile else "Disabled"}</span>'),
        ], box_id="remediation_profile_box")
        rows = [(tpl.label("Remediation Profile:"),
                 tpl.checkbox("remediation_profile", "Enable Remediation Profile", a.staged.remediation_profile)
                 + f'<div class="muted">{esc(msg.REMEDIATION_PROFILE_HELP)}</div>')]
        actions = f'<div class="actions"><span></span><span class="right">{tpl.submit_button("Submit", "submit")}'
        actions += "</span></div>"
        form = tpl.post_form(ACCOUNT_PATH, self.csrf(request), tpl.box("Edit Remediation Profile", rows) + actions,
                             "account_form")
        return self.render(request, "Account Settings", current + form)

    async def account_submit(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        self.appliance.set_remediation_profile(form.get("remediation_profile") == "on")  # staged (commit)
        return redirect(ACCOUNT_PATH)

    # ---- Monitor > Message Tracking (VER-4) -------------------------------------------------------------
    async def tracking(self, request: web.Request) -> web.StreamResponse:
        query = TrackingQuery.from_request(request.query)
        now = self.appliance.clock.now()
        content = self._tracking_form(query, now)
        if query.searched:
            try:
                start, end = query.time_range(now)
            except ValueError as exc:
                self.flash(request, "error", str(exc))
                return self.render(request, "Message Tracking", self._tracking_form(query, now), 400)
            found = self._search(query, start, end)
            content += self._tracking_results(query, found, now)
        return self.render(request, "Message Tracking", content)

    def _search(self, query: TrackingQuery, start: datetime, end: datetime) -> list[TrackedMessage]:
        found = self.appliance.tracking.search(
            start=start, end=end,
            sender=query.sender or None, sender_op=query.sender_match,
            recipient=query.recipient or None, recipient_op=query.recipient_match,
            subject=query.subject or None, subject_op=query.subject_match,
        )
        return sorted(found, key=lambda m: (m.timestamp, m.mid), reverse=True)  # newest first

    def _tracking_form(self, q: TrackingQuery, now: datetime) -> str:
        oldest = min((m.timestamp for m in self.appliance.tracking.all()), default=now)
        available = (f'<p>Available Time Range: {esc(asyncos_time(oldest, False, zone=False))} to '
                     f"{esc(asyncos_time(now, False))} &nbsp; Data in time range: 100.0% complete</p>")

        def match_row(label: str, field_name: str, op: str, value: str) -> tuple[str, str]:
            return (f'<label for="{field_name}">{esc(label)}</label><span class="help">?</span>',
                    tpl.select(f"{field_name}_match", MATCH_OPERATORS, op) + " " + tpl.text_input(field_name, value))

        start, end = q.default_range(now)
        received = " ".join(tpl.radio("received", v, t, q.received == v)
                            for v, t in (("last_day", "Last Day"), ("last_week", "Last Week"),
                                         ("custom", "Custom Range")))
        custom = (f'Start Date: {tpl.text_input("date_from", q.date_from or f"{start:%m/%d/%Y}", 10)} '
                  f'Time: {tpl.text_input("time_from", q.time_from or f"{start:%H:%M}", 5)} and '
                  f'End Date: {tpl.text_input("date_to", q.date_to or f"{end:%m/%d/%Y}", 10)} '
                  f'Time: {tpl.text_input("time_to", q.time_to or f"{end:%H:%M}", 5)} (GMT +00:00)')
        rows = [
            match_row("Envelope Sender:", "sender", q.sender_match, q.sender),
            match_row("Envelope Recipient:", "recipient", q.recipient_match, q.recipient),
            match_row("Subject:", "subject", q.subject_match, q.subject),
            (tpl.label("Message Received:"), received + f"<div>{custom}</div>"),
        ]
        actions = (f'<div class="actions">{tpl.link_button("Clear", TRACKING_PATH, "clear")}<span class="right">'
                   f'<button type="submit" id="search" name="action" value="Search" class="primary">Search</button>'
                   "</span></div>")
        return (f'<form method="get" action="{TRACKING_PATH}" id="tracking_form">'
                f'{available}{tpl.box("Search", rows)}{actions}</form>')

    def _tracking_results(self, q: TrackingQuery, found: list[TrackedMessage], now: datetime) -> str:
        total = len(found)
        pages = max(1, ceil(total / ITEMS_PER_PAGE))
        page = min(max(q.page, 1), pages)
        shown = found[(page - 1) * ITEMS_PER_PAGE: page * ITEMS_PER_PAGE]
        first = (page - 1) * ITEMS_PER_PAGE + 1
        if total:
            # seed 004: "Displaying 1 — 1 of 1 items."
            counter = f'<p class="counter">Displaying {first} \u2014 {first + len(shown) - 1} of {total} items.</p>'
        else:
            counter = f'<p class="counter">{esc(msg.TRACKING_NO_RESULTS)}</p>'
        items = "".join(self._result_item(first + i, m) for i, m in enumerate(shown))
        pager = self._pager(q, page, pages)
        return (f'<p>Generated: {esc(asyncos_time(now, False))}</p><table class="box" id="results">'
                f"<caption>Results</caption><tr><td>"
                f'<div class="muted" style="text-align:right">Items per page {ITEMS_PER_PAGE}</div>'
                f'{counter}<div class="results">{items}</div>{counter if total else ""}{pager}</td></tr></table>')

    @staticmethod
    def _result_item(index: int, m: TrackedMessage) -> str:
        details = f"{DETAILS_PATH}?{urlencode({'mid': m.mid})}"
        fields = (("SENDER:", m.sender), ("RECIPIENT:", ", ".join(m.recipients)), ("SUBJECT:", m.subject),
                  ("LAST STATE:", m.last_state))
        dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in fields)
        return (f'<div class="item" id="mid-{m.mid}"><div class="line"><span>{index}</span>'
                f"<span>{esc(asyncos_time(m.timestamp))}</span><span class=\"mid\">MID: {m.mid}</span>"
                f'<a href="{esc(details)}">Show Details</a></div><dl>{dl}</dl></div>')

    @staticmethod
    def _pager(q: TrackingQuery, page: int, pages: int) -> str:
        if pages <= 1:
            return ""
        links = []
        for label, target in (("Previous", page - 1), ("Next", page + 1)):
            if 1 <= target <= pages:
                links.append(f'<a href="{esc(TRACKING_PATH + "?" + q.urlencode(page=target))}">{label}</a>')
        return f'<p>{" | ".join(links)} &nbsp; Page {page} of {pages}</p>'

    async def tracking_details(self, request: web.Request) -> web.StreamResponse:
        try:
            message = self.appliance.tracking.get(int(request.query.get("mid", "")))
        except ValueError:
            message = None
        if message is None:
            self.flash(request, "error", msg.TRACKING_NO_RESULTS)
            return self.render(request, "Message Details", "", 404)
        attachments = "<br>".join(f"{esc(a.name)} (SHA-256: {esc(a.sha256)})" for a in message.attachments)
        summary = tpl.box("Envelope and Header Summary", [
            (tpl.label("Received Time:"), esc(asyncos_time(message.timestamp))),
            (tpl.label("MID:"), str(message.mid)),
            (tpl.label("ICID:"), str(message.icid)),
            (tpl.label("Sender:"), esc(message.sender)),
            (tpl.label("Recipient:"), esc(", ".join(message.recipients))),
            (tpl.label("Subject:"), esc(message.subject)),
            (tpl.label("Message ID Header:"), esc(f"<{message.message_id}>")),
            (tpl.label("Sending Host IP:"), esc(message.sender_ip)),
            (tpl.label("Attachments:"), attachments or "None"),
            (tpl.label("Status:"), esc(message.state)),
        ])
        events = tpl.box("Processing Details", [
            (esc(asyncos_time(when)), esc(text)) for when, text in message.events
        ])
        back = tpl.link_button("Back to Message Tracking", TRACKING_PATH, "back")
        return self.render(request, "Message Details", summary + events + back)


@dataclass
class TrackingQuery:
    """The Message Tracking search form, carried in the query string so a search is a URL."""

    sender: str = ""
    sender_match: str = "match_begins"
    recipient: str = ""
    recipient_match: str = "match_begins"
    subject: str = ""
    subject_match: str = "match_begins"
    received: str = "last_day"
    date_from: str = ""
    time_from: str = ""
    date_to: str = ""
    time_to: str = ""
    searched: bool = False
    page: int = 1

    @classmethod
    def from_request(cls, query: Mapping[str, str]) -> TrackingQuery:
        get = query.get
        ops = {v for v, _ in MATCH_OPERATORS}

        def op(name: str) -> str:
            value = get(name, "match_begins")
            return value if value in ops else "match_begins"

        received = get("received", "last_day")
        try:
            page = int(get("page", "1"))
        except ValueError:
            page = 1
        return cls(
            sender=get("sender", "").strip(), sender_match=op("sender_match"),
            recipient=get("recipient", "").strip(), recipient_match=op("recipient_match"),
            subject=get("subject", "").strip(), subject_match=op("subject_match"),
            received=received if received in ("last_day", "last_week", "custom") else "last_day",
            date_from=get("date_from", ""), time_from=get("time_from", ""),
            date_to=get("date_to", ""), time_to=get("time_to", ""),
            searched=get("action") == "Search", page=page,
        )

    def default_range(self, now: datetime) -> tuple[datetime, datetime]:
        days = 7 if self.received == "last_week" else 1
        return now - timedelta(days=days), now

    def time_range(self, now: datetime) -> tuple[datetime, datetime]:
        if self.received != "custom":
            return self.default_range(now)
        start = _form_time(self.date_from, self.time_from or "00:00", now)
        # Why +59 s: the form has minute resolution and the end minute is part of the range.
        end = _form_time(self.date_to, self.time_to or "23:59", now) + timedelta(seconds=59.999)
        return start, end

    def urlencode(self, **overrides: object) -> str:
        params = {
            "sender_match": self.sender_match, "sender": self.sender,
            "recipient_match": self.recipient_match, "recipient": self.recipient,
            "subject_match": self.subject_match, "subject": self.subject, "received": self.received,
            "date_from": self.date_from, "time_from": self.time_from, "date_to": self.date_to,
            "time_to": self.time_to, "action": "Search", "page": self.page,
        }
        params.update(overrides)
        return urlencode(params)


def _form_time(date: str, clock: str, now: datetime) -> datetime:
    try:
        parsed = datetime.strptime(f"{date.strip()} {clock.strip()}", "%m/%d/%Y %H:%M")
    except ValueError:
        raise ValueError("Enter dates as MM/DD/YYYY and times as HH:MM.") from None
    return parsed.replace(tzinfo=now.tzinfo)


def _set_cookie(response: web.StreamResponse, session: Session) -> None:
    response.set_cookie(SESSION_COOKIE, session.sid, path="/", httponly=True, secure=True, samesite="Lax")
