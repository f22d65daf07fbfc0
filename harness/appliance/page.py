"""A web page as the documents describe it: title, messages, "Label:" value rows, forms, buttons, links.

Parsed by lxml's HTML parser (libxml2, ten times faster than ``html.parser``, which remains the fallback
without lxml) into a small, forgiving tree (unclosed ``<td>``, ``<li>``, ``<option>`` are closed the way
browsers close them), then read by *labels*, never by the ids or class names of one implementation: the
same model reads the simulator and a real appliance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

try:
    from lxml import etree as _lxml_etree
except ImportError:  # pragma: no cover - lxml is a dependency; html.parser keeps the model working without it
    _lxml_etree = None

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                  "track", "wbr"})
HIDDEN_TEXT = frozenset({"script", "style", "template", "head", "title", "noscript"})
# tag -> (open tags it closes, tags that bound the search): how browsers end unclosed elements
_AUTOCLOSE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "option": (frozenset({"option"}), frozenset({"select", "datalist", "optgroup"})),
    "li": (frozenset({"li"}), frozenset({"ul", "ol", "menu"})),
    "tr": (frozenset({"tr", "td", "th"}), frozenset({"table", "tbody", "thead", "tfoot"})),
    "td": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "th": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "dt": (frozenset({"dt", "dd"}), frozenset({"dl"})),
    "dd": (frozenset({"dt", "dd"}), frozenset({"dl"})),
    "p": (frozenset({"p"}), frozenset({"div", "td", "th", "li", "form", "table", "body"})),
}
MESSAGE_CLASSES = frozenset({"flash", "message", "messages", "notice", "alert", "success", "error", "warning",
                             "info", "notification"})
KINDS = ("success", "error", "warning", "info")
_TRAILING_MARKS = re.compile(r"[\s:?*\u25ba\u25b6\u203a\u00bb>]+$")  # "Label: ?", "Commit Changes ►"
_CSRF_CARRIERS = frozenset({"script", "a", "link", "form", "img"})
_CSRF_IN_URL = re.compile(r"[?&;]CSRFKey=([^&\"'#\s]+)")


def norm(text: str) -> str:
    """How labels are compared: spaces collapsed, case folded, help marks and arrows dropped."""
    return _TRAILING_MARKS.sub("", " ".join(text.split())).casefold()


# ---- the tree -----------------------------------------------------------------------------------
@dataclass(eq=False, slots=True)
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False)

    def get(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        return set(self.get("class").lower().split())

    def iter(self, *tags: str) -> Iterator[Node]:
        """Descendants in document order (optionally only these tags)."""
        # An explicit stack: nested generators would cost a frame per level for every node yielded.
        stack = [iter(self.children)]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
            elif isinstance(child, Node):
                if not tags or child.tag in tags:
                    yield child
                stack.append(iter(child.children))

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def closest(self, *tags: str) -> Node | None:
        return next((a for a in self.ancestors() if a.tag in tags), None)

    def text(self) -> str:
        """Visible text, whitespace collapsed; form controls contribute nothing but their option text."""
        parts: list[str] = []
        self._text(parts)
        return " ".join(" ".join(parts).split())

    def _text(self, parts: list[str]) -> None:
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag == "select":
                chosen = _selected_options(child)
                parts.append(chosen[0].text() if chosen else "")
            elif child.tag not in HIDDEN_TEXT:
                child._text(parts)


class _Tree:
    """The tree from start/end/data events, whichever parser sends them (lxml's target interface)."""

    def __init__(self) -> None:
        self.root = Node("#document")
        self.stack = [self.root]
        self.nodes: list[Node] = []  # every element in document order: read_page walks this, not the tree

    def start(self, tag: str, attrs: Mapping[str, str | None] | list[tuple[str, str | None]]) -> None:
        closes = _AUTOCLOSE.get(tag)
        if closes:
            closers, bounds = closes
            for i in range(len(self.stack) - 1, 0, -1):
                name = self.stack[i].tag
                if name in closers:
                    del self.stack[i:]
                    break
                if name in bounds:
                    break
        items = attrs.items() if isinstance(attrs, Mapping) else attrs
        node = Node(tag, {k: (v if v is not None else "") for k, v in items}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        self.nodes.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def end(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return  # an end tag with no open element is ignored, as browsers do

    def data(self, data: str) -> None:
        children = self.stack[-1].children
        if children and isinstance(children[-1], str):
            children[-1] += data  # one text node, as html.parser gives it (libxml2 splits at entities)
        else:
            children.append(data)

    def close(self) -> _Tree:
        return self


class _StdlibBuilder(HTMLParser):
    """The fallback without lxml: html.parser's events into the same tree."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tree = _Tree()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tree.start(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tree.start(tag, attrs)
        if tag not in VOID and self.tree.stack[-1].tag == tag:
            self.tree.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        self.tree.end(tag)

    def handle_data(self, data: str) -> None:
        self.tree.data(data)


def parse_html(markup: str) -> Node:
    return _parse(markup).root


def _parse(markup: str) -> _Tree:
    if _lxml_etree is not None and markup.strip():
        parser = _lxml_etree.HTMLParser(target=_Tree())
        parser.feed(markup)
        tree: _Tree = parser.close()
        return tree
    builder = _StdlibBuilder()
    builder.feed(markup)
    builder.close()
    return builder.tree


def _selected_options(select: Node) -> list[Node]:
    options = list(select.iter("option"))
    chosen = [o for o in options if "selected" in o.attrs]
    if not chosen and options and "multiple" not in select.attrs:
        chosen = options[:1]  # a single select shows its first option by default
    return chosen


# ---- what a page offers -------------------------------------------------------------------------
@dataclass
class Option:
    value: str
    text: str
    selected: bool


@dataclass
class Field:
    name: str
    kind: str  # text, password, hidden, checkbox, radio, select, textarea, file, ...
    value: str
    labels: list[str]
    checked: bool = False
    options: list[Option] = field(default_factory=list)
    disabled: bool = False
    ident: str = ""

    @property
    def label(self) -> str:
        return self.labels[0] if self.labels else self.name

    def matches(self, label: str) -> bool:
        wanted = norm(label)
        return any(norm(text) == wanted for text in self.labels)

    @property
    def selected_text(self) -> str:
        chosen = [o for o in self.options if o.selected] or self.options[:1]
        return chosen[0].text if chosen else ""


@dataclass
class Button:
    text: str
    name: str
    value: str
    form: Form | None = field(default=None, repr=False)
    href: str = ""  # a link that looks like a button (GET)


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field]
    buttons: list[Button]
    ident: str = ""

    def fields_labelled(self, label: str) -> list[Field]:
        found = [f for f in self.fields if f.kind != "hidden" and f.matches(label)]
        return found or [f for f in self.fields if f.name == label]


@dataclass
class Link:
    text: str
    href: str


@dataclass
class Message:
    kind: str  # success | error | warning | info
    text: str


@dataclass
class Page:
    url: str
    status: int
    title: str
    heading: str
    messages: list[Message]
    rows: list[tuple[str, str]]
    forms: list[Form]
    links: list[Link]
    text: str
    csrf_key: str | None = None
    root: Node | None = field(default=None, repr=False)

    # ---- reading ----------------------------------------------------------------------------------
    def value(self, label: str) -> str | None:
        """The value shown beside "Label:" (first occurrence), e.g. ``value("Threat Response")``."""
        values = self.values(label)
        return values[0] if values else None

    def values(self, label: str) -> list[str]:
        wanted = norm(label)
        return [v for k, v in self.rows if norm(k) == wanted]

    def messages_of(self, kind: str) -> list[str]:
        return [m.text for m in self.messages if m.kind == kind]

    def has_text(self, text: str) -> bool:
        return " ".join(text.split()).casefold() in self.text.casefold()

    @property
    def buttons(self) -> list[Button]:
        out = [b for f in self.forms for b in f.buttons]
        out += [Button(link.text, "", "", None, link.href) for link in self.links]
        return out

    def button(self, label: str) -> Button | None:
        """A submit button, else a link, whose text is ``label`` (buttons win: they act on a form)."""
        wanted = norm(label)
        in_forms = [b for f in self.forms for b in f.buttons if norm(b.text) == wanted]
        if in_forms:
            return in_forms[0]
        link = self.link(label)
        return Button(link.text, "", "", None, link.href) if link else None

    def link(self, label: str) -> Link | None:
        wanted = norm(label)
        return next((link for link in self.links if norm(link.text) == wanted), None)

    def form_with(self, label: str) -> Form | None:
        """The form holding the field or button labelled ``label``."""
        wanted = norm(label)
        for form in self.forms:
            if form.fields_labelled(label) or any(norm(b.text) == wanted for b in form.buttons):
                return form
        return None

    @property
    def is_login(self) -> bool:
        """A log-in form: a password and a user name field (other pages may ask for a password too,
        e.g. the casebook's client password)."""
        return self.login_form is not None

    @property
    def login_form(self) -> Form | None:
        for form in self.forms:
            kinds = {f.kind for f in form.fields}
            named = any("user" in f.name.lower() or any("user" in norm(x) for x in f.labels)
                        for f in form.fields if f.kind in ("text", "email"))
            if "password" in kinds and named:
                return form
        return None

    def labels(self) -> list[str]:
        """Every row label, field label and button text: what an error message should list."""
        out = [k for k, _ in self.rows]
        out += [f.label for form in self.forms for f in form.fields if f.kind != "hidden"]
        out += [b.text for b in self.buttons]
        return list(dict.fromkeys(x for x in out if x))


def read_page(markup: str, url: str, status: int = 200) -> Page:
    tree = _parse(markup)
    root, nodes = tree.root, tree.nodes
    by_tag: dict[str, list[Node]] = {}
    for node in nodes:  # one walk of the tree; every lookup below reads these lists (document order)
        by_tag.setdefault(node.tag, []).append(node)

    def first_text(tag: str) -> str:
        found = by_tag.get(tag)
        return found[0].text() if found else ""

    label_for = {n.get("for"): n.text() for n in by_tag.get("label", ()) if n.get("for")}
    body = by_tag["body"][0] if "body" in by_tag else root
    links = [Link(a.text() or a.get("title"), urljoin(url, a.get("href")))
             for a in by_tag.get("a", ()) if a.get("href") and not a.get("href").startswith(("#", "javascript:"))]
    csrf = None
    for node in nodes:
        if node.tag in _CSRF_CARRIERS and (
                m := _CSRF_IN_URL.search(node.get("src") or node.get("href") or node.get("action"))):
            csrf = m.group(1)
            break
    return Page(url=url, status=status, title=first_text("title"), heading=first_text("h1"),
                messages=_messages(nodes), rows=_rows(by_tag.get("tr", ()), by_tag.get("dl", ())),
                forms=[_form(f, url, label_for) for f in by_tag.get("form", ())], links=links, text=body.text(),
                csrf_key=csrf, root=root)


def _messages(nodes: list[Node]) -> list[Message]:
    def marked(node: Node) -> bool:
        attrs = node.attrs
        if "class" not in attrs and "role" not in attrs:  # most elements: no set built for them
            return False
        return attrs.get("role") in ("status", "alert") or not MESSAGE_CLASSES.isdisjoint(node.classes)

    out = []
    for node in nodes:
        if node.tag in ("input", "select", "option", "textarea", "form", "body", "table", "tr") or not marked(node):
            continue
        if any(marked(d) for d in node.iter()):
            continue  # the innermost marked element is the message
        text = node.text()
        if not text:
            continue
        kind = next((k for k in KINDS if k in node.classes), "")
        if not kind:
            head = text.split()[0].rstrip(":\u2014-").casefold()
            kind = head if head in KINDS else "info"
        out.append(Message(kind, text))
    return out


def _rows(trs: Iterable[Node], dls: Iterable[Node]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for tr in trs:
        cells = [c for c in tr.children if isinstance(c, Node) and c.tag in ("th", "td")]
        if len(cells) < 2:
            continue
        label = cells[0].text()
        if label and (cells[0].tag == "th" or label.rstrip(" ?*").endswith(":")):
            rows.append((label, cells[1].text()))
    for dl in dls:
        term = None
        for child in dl.children:
            if isinstance(child, Node) and child.tag == "dt":
                term = child.text()
            elif isinstance(child, Node) and child.tag == "dd" and term is not None:
                rows.append((term, child.text()))
                term = None
    return rows


def _field_labels(node: Node, label_for: dict[str, str]) -> list[str]:
    labels = []
    if node.get("id") and node.get("id") in label_for:
        labels.append(label_for[node.get("id")])
    wrapper = node.closest("label")
    if wrapper is not None:
        labels.append(wrapper.text())
    cell = node.closest("td", "th")
    row = cell.closest("tr") if cell is not None else None
    if row is not None:
        cells = [c for c in row.children if isinstance(c, Node) and c.tag in ("th", "td")]
        if len(cells) >= 2 and cells[0] is not cell:
            labels.append(cells[0].text())  # the row's "Label:" cell
    labels += [node.get(a) for a in ("aria-label", "title", "placeholder") if node.get(a)]
    return [x for x in dict.fromkeys(labels) if x]


def _form(node: Node, url: str, label_for: dict[str, str]) -> Form:
    form = Form(action=urljoin(url, node.get("action") or url), method=(node.get("method") or "get").lower(),
                fields=[], buttons=[], ident=node.get("id"))
    for el in node.iter("input", "select", "textarea", "button"):
        kind = (el.get("type") or ("submit" if el.tag == "button" else "text")).lower()
        disabled = "disabled" in el.attrs
        if el.tag == "button" or kind in ("submit", "image"):
            if el.tag == "button" and kind not in ("submit", ""):
                continue  # type=button/reset: scripts only, nothing a form post can do
            text = el.text() if el.tag == "button" else el.get("value") or "Submit"
            form.buttons.append(Button(text or el.get("value"), el.get("name"), el.get("value"), form))
            continue
        if kind in ("button", "reset") or not el.get("name"):
            continue
        labels = _field_labels(el, label_for)
        if el.tag == "select":
            options = [Option(o.get("value", o.text()) if "value" in o.attrs else o.text(), o.text(),
                              "selected" in o.attrs) for o in el.iter("option")]
            form.fields.append(Field(el.get("name"), "select", "", labels, options=options, disabled=disabled,
                                     ident=el.get("id")))
        elif el.tag == "textarea":
            form.fields.append(Field(el.get("name"), "textarea", el.text(), labels, disabled=disabled,
                                     ident=el.get("id")))
        else:
            form.fields.append(Field(el.get("name"), kind, el.get("value", "on" if kind in ("checkbox", "radio")
                                                                    else ""),
                                     labels, checked="checked" in el.attrs, disabled=disabled, ident=el.get("id")))
    return form
