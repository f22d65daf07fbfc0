"""The AsyncOS legacy web interface over HTTPS, driven by the labels the documents name.

A person following the procedure reads labels and clicks buttons: "Network" > "Cloud Service
Settings", "Edit Settings", check "Enable", choose the "Threat Response Server", "Submit", "Commit
Changes". This driver does the same with a ``requests`` session: it follows links and submits forms
found by their visible text (hidden fields, the CSRF key included, are carried as a browser carries
them), and reads each page into a :class:`~harness.appliance.page.Page`. No JavaScript, no ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import AuthenticationFailed, NavigationError
from ..http import DEFAULT_TIMEOUT, HttpSession, Timeout
from ..transcript import Transcript
from .page import Button, Field, Form, Page, norm, read_page

FieldValue = str | bool | Sequence[str | bool]
EDIT_BUTTONS = ("Edit Settings", "Edit Global Settings", "Enable")  # ENA-2; SMA SecureX era; gateways (000)
CONFIRM_BUTTONS = ("Submit", "Continue", "OK", "Confirm", "Yes")
_MID = re.compile(r"\bMID:?\s*(\d+)")
MAX_RESULT_PAGES = 20


@dataclass
class TrackedRow:
    """One message in the Message Tracking results (VER-4)."""

    mid: int | None
    sender: str
    recipients: str
    subject: str
    last_state: str
    fields: dict[str, str] = field(default_factory=dict)  # every "LABEL:" shown for it


class AsyncOSGui:
    def __init__(self, base_url: str, username: str, password: str, *, name: str = "appliance",
                 verify: bool | str = True, timeout: Timeout = DEFAULT_TIMEOUT, transcript: Transcript | None = None,
                 connect_retries: int = 2) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.username = username
        self._password = password
        self.what = f"{name} GUI"
        self.http = HttpSession(self.what, verify=verify, timeout=timeout, transcript=transcript,
                                connect_retries=connect_retries)
        self.transcript = self.http.transcript
        self.transcript.add_credentials(username, password)
        self.page: Page | None = None
        self.logged_in = False

    # ---- session ------------------------------------------------------------------------------
    def login(self) -> Page:
        page = self._get(self.base_url + "login")
        if not page.is_login:
            self.logged_in = True  # a session cookie is still valid
            return page
        form = page.login_form
        assert form is not None
        texts = [f for f in form.fields if f.kind in ("text", "email")]
        user = next((f for f in texts if "user" in f.name.lower() or any("user" in norm(x) for x in f.labels)),
                    texts[0] if texts else None)
        if user is not None:
            user.value = self.username
        for f in form.fields:
            if f.kind == "password":
                f.value = self._password
        page = self._submit(form, form.buttons[0] if form.buttons else None, page)
        if page.is_login or page.status in (401, 403):
            detail = "; ".join(m.text for m in page.messages) or f"HTTP {page.status}, still on the login page"
            raise AuthenticationFailed(self.what, self.base_url, detail)
        self.logged_in = True
        return page

    def logout(self) -> None:
        if self.logged_in and self.page is not None and (link := self.page.link("Log Out")):
            self._get(link.href)
        self.logged_in = False

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> AsyncOSGui:
        self.login()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- generic navigation -----------------------------------------------------------------
    def open(self, path: str) -> Page:
        """GET a path of the appliance (logging in first, and again if the session expired)."""
        url = path if "://" in path else self.base_url + path.lstrip("/")
        if not self.logged_in:
            self.login()
        page = self._get(url)
        if page.is_login:  # the session expired: log in once more, then retry the GET
            self.logged_in = False
            self.login()
            page = self._get(url)
        return page

    def navigate(self, *labels: str) -> Page:
        """Follow a menu path by its labels, e.g. ``navigate("Network", "Cloud Service Settings")``.

        A label that is a link is followed; a label that is only a heading on the page (SMA's "Network"
        group under "Management Appliance") is passed over; anything else is a NavigationError.
        """
        start = self.page if self.page is not None and self.logged_in else self.open("")
        if labels and start.link(labels[0]) is None and not start.has_text(labels[0]):
            start = self.open("")  # an error page or a dialog has no menus: start from the home page
        page = start
        for label in labels:
            link = page.link(label)
            if link is not None:
                page = self.open(link.href)
            elif not page.has_text(label):
                raise NavigationError(f"{self.what}: no link or menu labelled {label!r} on {page.title!r}; "
                                      f"links: {[x.text for x in page.links]}")
        return page

    def fill(self, values: Mapping[str, FieldValue], form: Form | None = None) -> Form:
        """Set fields of the current page by label: checkbox True/False, select by visible option
        text, text by value; a sequence fills several fields under one row label in order (the
        tracking form's "Subject:" row has an operator select and a text box)."""
        page = self._current()
        for label, value in values.items():
            target = form or page.form_with(label)
            if target is None:
                raise NavigationError(f"{self.what}: no field labelled {label!r} on {page.title!r}; "
                                      f"labels: {page.labels()}")
            form = target
            _assign(self.what, label, target.fields_labelled(label), value)
        assert form is not None
        return form

    def click(self, label: str, values: Mapping[str, FieldValue] | None = None) -> Page:
        """Click a button (submitting its form with ``values`` filled in) or a link, by its text."""
        page = self._current()
        button = page.button(label)
        if button is None:
            raise NavigationError(f"{self.what}: no button or link {label!r} on {page.title!r}; "
                                  f"buttons: {[b.text for b in page.buttons if b.form is not None]}")
        if values:
            self.fill(values, button.form)
        if button.form is None:
            return self.open(button.href)
        return self._submit(button.form, button, page)

    def click_first(self, labels: Sequence[str], values: Mapping[str, FieldValue] | None = None) -> Page:
        page = self._current()
        for label in labels:
            if page.button(label) is not None:
                return self.click(label, values)
        raise NavigationError(f"{self.what}: none of {list(labels)} on {page.title!r}; "
                              f"buttons: {[b.text for b in page.buttons]}")

    # ---- the documented procedures ---------------------------------------------------------------
    def cloud_service_settings(self) -> Page:
        """Network > Cloud Service Settings (under Management Appliance on an SMA)."""
        return self.navigate("Network", "Cloud Service Settings")

    def edit_cloud_settings(self, enable: bool | None = None, server: str | None = None) -> Page:
        """Edit Settings, (un)check Enable, choose the server by its visible text, Submit (ENA-2)."""
        self.cloud_service_settings()
        page = self.click_first(EDIT_BUTTONS)
        form = next((f for f in page.forms if any(x.kind == "checkbox" for x in f.fields)), None)
        if form is None:
            raise NavigationError(f"{self.what}: the edit page {page.title!r} has no Enable check box")
        if enable is not None:
            boxes = [f for f in form.fields if f.kind == "checkbox"]
            enabling = [f for f in boxes if any(norm(x).startswith("enable") for x in f.labels)]
            _assign(self.what, "Enable", enabling[:1] or boxes[:1], enable)
        if server is not None:
            selects = [f for f in form.fields if f.kind == "select"]
            named = [f for f in selects if any("server" in norm(x) for x in f.labels)]
            _assign(self.what, "Server", named[:1] or selects[:1], server)
        return self.click("Submit")

    def commit_changes(self, comment: str = "") -> Page:
        """Commit Changes, optional comment, Commit Changes (the Uncommitted Changes page)."""
        page = self._current() if self.page is not None else self.open("")
        if page.button("Commit Changes") is None:
            page = self.open("")
        page = self.click("Commit Changes")
        if comment:
            form = page.form_with("Commit Changes")
            boxes = [f for f in (form.fields if form else []) if f.kind in ("text", "textarea")]
            commented = [f for f in boxes if any("comment" in norm(x) for x in f.labels)]
            _assign(self.what, "Comment", commented[:1] or boxes[:1], comment)
        return self.click("Commit Changes")

    def abandon_changes(self) -> Page:
        page = self._current() if self.page is not None else self.open("")
        if page.button("Abandon Changes") is None:
            self.click("Commit Changes")  # the Uncommitted Changes page holds both buttons
        return self.click("Abandon Changes")

    def register(self, token: str) -> Page:
        """Paste the registration token and click Register (REG-2)."""
        self.transcript.add_secret(token)
        page = self.cloud_service_settings()
        form = page.form_with("Register")
        boxes = [f for f in (form.fields if form else []) if f.kind in ("text", "password")]
        named = [f for f in boxes if any("token" in norm(x) for x in f.labels)]
        if page.button("Register") is None or not (named or boxes):
            raise NavigationError(f"{self.what}: no Registration Token field and Register button; "
                                  f"the page shows: {page.labels()}")
        _assign(self.what, "Registration Token", named[:1] or boxes[:1], token)
        return self.click("Register")

    def deregister(self) -> Page:
        """Deregister on Cloud Service Settings (REG-5)."""
        self.cloud_service_settings()
        return self.click("Deregister")

    def reregister(self, server: str | None = None, token: str | None = None, confirm: bool = True) -> Page:
        """Reregister: optionally a server and a token; with no token, confirm the dialog (REG-9)."""
        self.cloud_service_settings()
        page = self.click("Reregister")
        form = next((f for f in page.forms if f.buttons), None)
        if form is not None and server is not None:
            selects = [f for f in form.fields if f.kind == "select"]
            _assign(self.what, "Server", selects[:1], server)
        if form is not None and token:
            self.transcript.add_secret(token)
            boxes = [f for f in form.fields if f.kind in ("text", "password")]
            _assign(self.what, "Registration Token", boxes[:1], token)
        page = self.click_first(CONFIRM_BUTTONS)
        if confirm and page.has_text("Confirm reregistration"):
            page = self.click_first(CONFIRM_BUTTONS)
        return page

    def track_messages(self, subject: str | None = None, match: str = "Begins With", *,
                       sender: str | None = None, recipient: str | None = None) -> list[TrackedRow]:
        """Monitor > Message Tracking: search (subject "Begins With" by default), all result pages."""
        page = self.navigate("Message Tracking")
        values: dict[str, FieldValue] = {}
        for label, value in (("Subject", subject), ("Envelope Sender", sender), ("Envelope Recipient", recipient)):
            if value is not None:
                values[label] = (match, value)
        page = self.click("Search", values)
        rows: list[TrackedRow] = []
        for _ in range(MAX_RESULT_PAGES):
            rows += tracking_rows(page)
            if page.link("Next") is None:
                break
            page = self.open(page.link("Next").href)  # type: ignore[union-attr]
        return rows

    # ---- plumbing ---------------------------------------------------------------------------------
    def _current(self) -> Page:
        if self.page is None:
            return self.open("")
        return self.page

    def _get(self, url: str) -> Page:
        response = self.http.get(url, allow_redirects=True)
        self.page = read_page(response.text, response.url, response.status_code)
        return self.page

    def _submit(self, form: Form, button: Button | None, page: Page) -> Page:
        result = self._post_form(form, button, page)
        if result.is_login and self.logged_in:
            # The session expired while the form was being filled: a person logs in again, reopens
            # the page and submits the same values. The rejected post changed nothing.
            self.logged_in = False
            self.login()
            fresh = self._get(page.url)
            again = next((f for f in fresh.forms if f.action == form.action), None)
            if again is None:
                raise NavigationError(f"{self.what}: the session expired and {page.url} has no such form any more")
            _carry_values(form, again)
            same = next((b for b in again.buttons if button is not None and norm(b.text) == norm(button.text)), None)
            result = self._post_form(again, same, fresh)
        return result

    def _post_form(self, form: Form, button: Button | None, page: Page) -> Page:
        data = form_data(form, button)
        if page.csrf_key and not any(name == "CSRFKey" for name, _ in data):
            data.append(("CSRFKey", page.csrf_key))  # older GUIs carry the key in a script URL
        if form.method == "post":
            response = self.http.post(form.action, data=data, allow_redirects=True)
        else:
            response = self.http.get(form.action, params=data, allow_redirects=True)
        self.page = read_page(response.text, response.url, response.status_code)
        return self.page


def form_data(form: Form, button: Button | None) -> list[tuple[str, str]]:
    """What a browser posts for ``form`` when ``button`` is clicked."""
    data: list[tuple[str, str]] = []
    for f in form.fields:
        if f.disabled or f.kind == "file":
            continue
        if f.kind in ("checkbox", "radio"):
            if f.checked:
                data.append((f.name, f.value or "on"))
        elif f.kind == "select":
            chosen = [o for o in f.options if o.selected] or f.options[:1]
            data += [(f.name, o.value) for o in chosen]
        else:
            data.append((f.name, f.value))
    if button is not None and button.name:
        data.append((button.name, button.value))
    return data


def _carry_values(old: Form, new: Form) -> None:
    """Copy what was filled in ``old`` into the same fields of ``new`` (hidden fields stay fresh)."""
    filled = {f.name: f for f in old.fields if f.kind != "hidden"}
    for f in new.fields:
        source = filled.get(f.name)
        if source is None:
            continue
        if f.kind in ("checkbox", "radio"):
            f.checked = source.checked if f.value == source.value else f.checked
        elif f.kind == "select":
            wanted = {o.value for o in source.options if o.selected}
            for option in f.options:
                option.selected = option.value in wanted
        else:
            f.value = source.value


def _assign(what: str, label: str, fields: list[Field], value: Any) -> None:
    """Put ``value`` (or each of a sequence of values) into the first compatible field."""
    values = list(value) if isinstance(value, list | tuple) else [value]
    free = [f for f in fields if f.kind != "hidden"]
    if not free:
        raise NavigationError(f"{what}: no field labelled {label!r}")
    for item in values:
        target = next((f for f in free if _compatible(f, item)), None)
        if target is None:
            options = [o.text for f in free for o in f.options]
            raise NavigationError(f"{what}: {label!r} cannot take {item!r}"
                                  + (f"; the choices are {options}" if options else ""))
        free.remove(target)
        _set(target, item)


def _compatible(f: Field, value: Any) -> bool:
    if isinstance(value, bool):
        return f.kind in ("checkbox", "radio")
    if f.kind == "select":
        return _option(f, str(value)) is not None
    return f.kind in ("text", "password", "textarea", "email", "number", "search", "tel", "url", "date")


def _option(f: Field, wanted: str) -> int | None:
    """The option shown as ``wanted`` (exact text, else a unique prefix such as "AMERICAS", else value)."""
    key = norm(wanted)
    texts = [norm(o.text) for o in f.options]
    if key in texts:
        return texts.index(key)
    prefixed = [i for i, t in enumerate(texts) if t.startswith(key)]
    if len(prefixed) == 1:
        return prefixed[0]
    values = [o.value for o in f.options]
    return values.index(wanted) if wanted in values else None


def _set(f: Field, value: Any) -> None:
    if isinstance(value, bool):
        f.checked = value
    elif f.kind == "select":
        index = _option(f, str(value))
        for i, option in enumerate(f.options):
            option.selected = i == index
    else:
        f.value = str(value)


def tracking_rows(page: Page) -> list[TrackedRow]:
    """Message Tracking results: each result block's "LABEL:" / value pairs and its MID."""
    rows = []
    root = page.root
    if root is None:
        return rows
    for dl in root.iter("dl"):
        values: dict[str, str] = {}
        term = None
        for child in dl.children:
            if not isinstance(child, str) and child.tag == "dt":
                term = norm(child.text()).upper()
            elif not isinstance(child, str) and child.tag == "dd" and term:
                values[term] = child.text()
        mid = None
        for ancestor in dl.ancestors():
            if m := _MID.search(ancestor.text()):
                mid = int(m.group(1))
                break
        if values:
            rows.append(TrackedRow(mid, values.get("SENDER", ""), values.get("RECIPIENT", ""),
                                   values.get("SUBJECT", ""), values.get("LAST STATE", ""), values))
    return rows
