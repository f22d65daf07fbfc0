"""The legacy web interface, by the labels the documents name (ENA-1/2/4/5, REG-2, REG-5, REG-9, VER-4,
REM-1)."""

from __future__ import annotations

from pytest_bdd import step, then

from harness.appliance import Page
from harness.appliance.gui import tracking_rows
from harness.appliance.page import norm

from .placeholders import full_match, search
from .text import DEADLINE, sentence, table_column, table_dict
from .world import World


def _page(world: World) -> Page:
    """The page the scenario's last GUI action left open; Cloud Service Settings, freshly loaded, when
    something else (a CLI command, the cloud) acted since."""
    page = world.gui.page
    if page is None or not world.seen.gui.page_fresh:
        page = world.gui.navigate("Network", "Cloud Service Settings")
        world.seen.gui.page_fresh = True
    return page


def _acted(world: World) -> None:
    world.seen.gui.page_fresh = True


@step(sentence(r"I open {path} in the GUI"))
def open_path(world: World, path: str) -> None:
    labels = [p.strip() for p in path.split(">")]
    if labels[0] == "Monitor" and len(labels) > 1:
        labels = labels[1:]  # the Monitor tab is the home page; "Message Tracking" is linked from it
    world.gui.navigate(*labels)
    _acted(world)


@step(sentence(r"I click {label}"))
def click(world: World, label: str) -> None:
    world.gui.click(world.text(label))
    _acted(world)


def field_label(world: World, label: str) -> str:
    """The page's own label for ``label``: the same text, else the one label that starts with it
    ("Registration Token" finds "Registration Token (optional):" on the Reregister form)."""
    page = _page_as_is(world)
    if page.form_with(label) is not None:
        return label
    wanted = norm(label)
    labels = [x for form in page.forms for f in form.fields for x in f.labels if norm(x).startswith(wanted)]
    return labels[0] if len(set(labels)) == 1 else label


def _page_as_is(world: World) -> Page:
    return world.gui.page if world.gui.page is not None else _page(world)


@step(sentence(r"I check {label}"))
def check_box(world: World, label: str) -> None:
    world.gui.fill({field_label(world, label): True})


@step(sentence(r"I uncheck {label}"))
def uncheck_box(world: World, label: str) -> None:
    world.gui.fill({field_label(world, label): False})


@step(sentence(r"I choose {option} for {label}"))
def choose(world: World, option: str, label: str) -> None:
    label_, text = field_label(world, label), world.text(option)
    form = _page_as_is(world).form_with(label_)
    shown = [o.text for f in (form.fields_labelled(label_) if form else []) if f.kind == "select" for o in f.options]
    if shown:  # a row with a select and a text box ("Subject:") must not take a missing choice as text
        world.check(any(norm(o).startswith(norm(text)) for o in shown), f'"{text}" among the choices of "{label_}"',
                    shown, "the page")
    world.gui.fill({label_: text})


@step(sentence(r"I enter {value} into {label}"))
def enter(world: World, value: str, label: str) -> None:
    text = world.text(value)
    if "token" in label.lower() and text:
        world.gui.transcript.add_secret(text)
    label_ = field_label(world, label)
    page = _page_as_is(world)
    form = page.form_with(label_)
    fields = form.fields_labelled(label_) if form else []
    if any(f.kind == "select" for f in fields) and any(f.kind != "select" for f in fields):
        # A row with an operator select and a text box ("Subject: [Begins With] [....]"): keep the operator.
        chosen = next(f.selected_text for f in fields if f.kind == "select")
        world.gui.fill({label_: (chosen, text)})
    else:
        world.gui.fill({label_: text})


@step(sentence(r"I commit the changes in the GUI with comment {comment}"))
def commit_with_comment(world: World, comment: str) -> None:
    world.gui.commit_changes(comment)
    _acted(world)


@step("I commit the changes in the GUI")
def commit(world: World) -> None:
    world.gui.commit_changes("")
    _acted(world)


@step("I abandon the changes in the GUI")
def abandon(world: World) -> None:
    world.gui.abandon_changes()
    _acted(world)


@then(sentence(r"the page shows {label} as {value}"))
def shows_as(world: World, label: str, value: str) -> None:
    page = _page(world)
    if page.value(label) is None:
        page = world.gui.navigate("Network", "Cloud Service Settings")
    observed = page.value(label)
    world.check(observed is not None and full_match(value, observed, world.values),
                f"{label} {world.text(value)}", f"{label} {observed}" if observed is not None
                else f"no {label!r} on {page.title!r}: {page.labels()}", page.title or "GUI page")


@then(sentence(r"the page shows the status {status}"))
def shows_status(world: World, status: str) -> None:
    page = _page(world)
    observed = page.value("Status") or ""
    world.check(search(status, observed, world.values), f"Status: {world.text(status)}",
                f"Status: {observed or '(none)'}; page: {page.text[:600]}", page.title or "GUI page")


@then(sentence(r"the page shows {text}"))
def shows_text(world: World, text: str) -> None:
    page = _page(world)
    world.check(search(text, page.text, world.values), world.text(text), page.text, page.title or "GUI page")


@then(sentence(r"the page does not show {text}"))
def does_not_show(world: World, text: str) -> None:
    page = _page(world)
    world.check(not search(text, page.text, world.values), f"no {world.text(text)!r}", page.text,
                page.title or "GUI page")


@then(sentence(r"the page shows no {field} field"))
def no_field(world: World, field: str) -> None:
    state = world.cloud_state_of(_page(world))
    world.check(not state.token_field, f'no "{field}" field yet', state.describe())


@then(sentence(r"the page shows a {field} field and a {button} button"))
def field_and_button(world: World, field: str, button: str) -> None:
    state = world.cloud_state_of(world.gui.navigate("Network", "Cloud Service Settings"))
    world.check(state.token_field, f'a "{field}" field and a "{button}" button', state.describe())


@then(sentence(r"the {label} choices are:"))
def choices_are(world: World, label: str, datatable: list[list[str]]) -> None:
    wanted = table_column(datatable)
    page = _page(world)
    form = page.form_with(label)
    selects = [f for f in (form.fields_labelled(label) if form else []) if f.kind == "select"]
    offered = [o.text for f in selects for o in f.options]
    world.check(offered == wanted, wanted, offered or page.labels(), f'"{label}" choices')


@then(sentence(r"{option} is selected for {label}"))
def selected(world: World, option: str, label: str) -> None:
    page = _page(world)
    form = page.form_with(label)
    selects = [f for f in (form.fields_labelled(label) if form else []) if f.kind == "select"]
    observed = selects[0].selected_text if selects else None
    world.check(observed == option, f"{option} selected by default", observed or page.labels(),
                f'"{label}"')


@then("the GUI reports uncommitted changes")
def reports_uncommitted(world: World) -> None:
    page = world.gui.open("")
    pending = page.button("Commit Changes") is not None and not page.has_text("No Changes Pending")
    world.check(pending, "the changes are submitted but not committed (Commit Changes is pending)",
                page.text[:600], "GUI header")


@then("the GUI reports no uncommitted changes")
def reports_no_uncommitted(world: World) -> None:
    page = world.gui.open("")
    pending = page.button("Commit Changes") is not None and not page.has_text("No Changes Pending")
    world.check(not pending, "nothing waits for a commit", page.text[:600], "GUI header")


@then(sentence(rf"within the {DEADLINE} deadline the search shows the message with:"))
def search_shows(world: World, deadline: str, datatable: list[list[str]]) -> None:
    wanted = {k.upper(): world.text(v) for k, v in table_dict(datatable).items()}
    page = world.gui.page
    assert page is not None

    def probe() -> list[dict[str, str]]:
        current = world.gui.page if world.gui.page is not None else page
        rows = [{**r.fields, "MID": str(r.mid)} for r in tracking_rows(current)]
        if not any(_row_matches(r, wanted, world) for r in rows):
            world.gui.click("Search")  # search again: tracking may lag behind delivery
            rows = [{**r.fields, "MID": str(r.mid)} for r in tracking_rows(world.gui.page)]
        return rows

    try:
        rows = world.poll(deadline, probe, lambda rs: any(_row_matches(r, wanted, world) for r in rs),
                          "the message in Message Tracking")
    except AssertionError as exc:
        rows = getattr(exc, "last", [])
    world.check(any(_row_matches(r, wanted, world) for r in rows), wanted, rows or "(no results)", "Message Tracking")


def _row_matches(row: dict[str, str], wanted: dict[str, str], world: World) -> bool:
    return all(k in row and full_match(v, row[k], {**world.values, **({"mid": row["MID"]} if k == "MID" else {})})
               for k, v in wanted.items())


@then("the search shows no messages")
def search_shows_none(world: World) -> None:
    page = world.gui.page
    assert page is not None
    rows = tracking_rows(page)
    world.check(not rows, "no message matches", [r.fields for r in rows], "Message Tracking")


@then(sentence(r"Network > Cloud Service Settings offers a {button} button"))
def cloud_page_button(world: World, button: str) -> None:
    world.cloud_state_gui()  # a fresh look at the page
    page = world.gui.page
    found = page is not None and page.button(button) is not None
    world.check(found, f'a "{button}" button on Cloud Services Settings', page.text[:600] if page else "(no page)",
                "Network > Cloud Service Settings")
