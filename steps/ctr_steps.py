"""Threat Response / SecureX: sign-in (PRE-1), devices (VER-2), modules (VER-3, VER-8, TS-1),
Investigate (VER-5, VER-6, TS-2) and remediation (REM-1, REM-2)."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, step, then

from harness.errors import ApiError, AuthenticationFailed, DriverError

from .placeholders import full_match
from .text import REGION, sentence, table_column, table_dict, table_rows
from .world import World, authenticate

INVESTIGATE_SIGHTING = {  # VER-5, as the technote's Investigate screenshot shows the module's sighting
    "description": "Incoming message (Delivered)", "confidence": "High", "severity": "Low",
}


# ---- sign-in (PRE-1) --------------------------------------------------------------------------------
def _sign_in(world: World, region: str, client_region: str, secret: str | None = None) -> None:
    conf = world.lab.testbed.ctr_for(client_region)
    client_id, client_secret = (conf.client_id, conf.client_secret) if conf is not None else ("", "")
    client, error = authenticate(world.lab, region, client_id, secret if secret is not None else client_secret)
    world.seen.ctr.ribbon = {"client": client, "error": error, "region": region}
    if client is not None:
        world.on_teardown("close the sign-in client", client.close)


@step("I sign in to Threat Response with the testbed's API client")
def sign_in(world: World) -> None:
    _sign_in(world, world.lab.region, world.lab.region)


@step(sentence(r"I sign in to Threat Response with the testbed's API client and the password {password}"))
def sign_in_wrong(world: World, password: str) -> None:
    _sign_in(world, world.lab.region, world.lab.region, password)


@step(sentence(rf"I sign in to the {REGION} Threat Response with the {{client_region}} API client"))
def sign_in_other_region(world: World, region: str, client_region: str) -> None:
    _sign_in(world, region, client_region)


@then("the sign-in succeeds")
def sign_in_ok(world: World) -> None:
    world.check(world.seen.ctr.ribbon.get("client") is not None, "the account signs in (OAuth2 client credentials)",
                world.seen.ctr.ribbon.get("error"), "Threat Response sign-in")


@then("the sign-in is refused")
def sign_in_refused(world: World) -> None:
    world.check(
        world.seen.ctr.ribbon.get("client") is None, "the sign-in is refused", "signed in", "Threat Response sign-in"
    )


@then("the account can configure integration modules and read the registered devices")
def account_is_admin(world: World) -> None:
    client = world.seen.ctr.ribbon.get("client")
    assert client is not None
    try:
        types = client.module_types()
        client.devices()
        observed: Any = f"{len(types)} module types, devices readable; scopes {client.scopes}"
        ok = bool(types)
    except DriverError as exc:
        ok, observed = False, exc
    world.check(
        ok,
        "an administrator account: it can add modules and see the devices",
        observed,
        "Threat Response account rights",
    )


# ---- devices (VER-2, PRE-7) -------------------------------------------------------------------------
@step(sentence(rf"I list the devices in the {REGION} Threat Response"))
def list_ctr_devices(world: World, region: str) -> None:
    world.seen.sse.listed = world.ctr(region).devices()
    world.seen.sse.listed_where = f"{region} Threat Response"


@then("the list includes the appliance")
def list_includes(world: World) -> None:
    names = [d.get("name") for d in world.seen.sse.listed]
    world.check(world.device.hostname in names, f"{world.device.hostname} listed", names, world.seen.sse.listed_where)


@then(sentence(r"the list includes the appliance with status {status}"))
def list_includes_status(world: World, status: str) -> None:
    entries = [d for d in world.seen.sse.listed if d.get("name") == world.device.hostname]
    world.check(
        any(d.get("status") == status for d in entries),
        f'{world.device.hostname} listed as "{status}"',
        entries or "(not listed)",
        world.seen.sse.listed_where,
    )


@then("the list does not include the appliance")
def list_excludes(world: World) -> None:
    names = [d.get("name") for d in world.seen.sse.listed]
    world.check(
        world.device.hostname not in names, f"{world.device.hostname} not listed", names, world.seen.sse.listed_where
    )


# ---- modules (VER-3, VER-8, TS-1) -----------------------------------------------------------------------
@step(sentence(r"I open the {field} choices of a new {title} module"))
def open_choices(world: World, field: str, title: str) -> None:
    module_type = world.email_module_type(title)
    spec = world.spec_field(module_type, field)
    world.check(
        spec is not None,
        f'a "{field}" field on the Add New Module form',
        [f.get("label") for f in module_type.get("configuration_spec") or []],
    )
    world.seen.ctr.choices = list((spec or {}).get("options") or [])


@then("the choices include the appliance")
def choices_include(world: World) -> None:
    world.check(
        world.my_choice(world.seen.ctr.choices) is not None,
        f"{world.device.hostname} among the registered devices",
        [c.get("label") for c in world.seen.ctr.choices],
        "Registered Device",
    )


@then("the choices do not include the appliance")
def choices_exclude(world: World) -> None:
    world.check(
        world.my_choice(world.seen.ctr.choices) is None,
        f"{world.device.hostname} not offered",
        [c.get("label") for c in world.seen.ctr.choices],
        "Registered Device",
    )


@then("the choices include the appliance with:")
def choices_include_with(world: World, datatable: list[list[str]]) -> None:
    mine = world.my_choice(world.seen.ctr.choices)
    world.check(
        mine is not None,
        f"{world.device.hostname} among the registered devices",
        [c.get("label") for c in world.seen.ctr.choices],
        "Registered Device",
    )
    assert mine is not None
    label = str(mine.get("label", ""))
    for name, value in table_dict(datatable).items():
        expected = world.text(value) if "<" not in value or name == "Name" else value
        shown = _labelled_part(label, name)
        world.check(
            shown is not None and full_match(expected, shown, world.values),
            f"{name}: {world.text(value)}",
            label,
            f"Registered Device choice, {name}",
        )


def _labelled_part(label: str, name: str) -> str | None:
    """A part of a device choice: ``esa1.lab (Type ESA, ID <uuid>, IP Address 127.0.0.1)``."""
    import re

    if name == "Name":
        return label.split(" (", 1)[0]
    m = re.search(rf"\b{re.escape(name)}\s+([^,)]+)", label)
    return m.group(1).strip() if m else None


def _add(
    world: World,
    settings: dict[str, str] | None = None,
    region: str | None = None,
    forward: str | None = None,
    title: str | None = None,
) -> None:
    world.seen.ctr.module_error = None
    try:
        world.add_module(settings, title=title, region=region, forward=forward)
    except ApiError as exc:
        world.seen.ctr.module_error, world.seen.ctr.module = exc, None


@given(sentence(r"an {title} module for the appliance"))
def given_module(world: World, title: str) -> None:
    _add(world, title=title)
    world.check(
        world.seen.ctr.module is not None, f'the "{title}" module is saved', world.seen.ctr.module_error, "set-up"
    )


@given(sentence(r"an {title} module for the appliance with remediation forward address {address}"))
def given_module_forward(world: World, title: str, address: str) -> None:
    _add(world, title=title, forward=address)
    world.check(
        world.seen.ctr.module is not None, f'the "{title}" module is saved', world.seen.ctr.module_error, "set-up"
    )


@step(sentence(r"I add an {title} module for the appliance with the defaults"))
def add_defaults(world: World, title: str) -> None:
    _add(world, title=title)


@step(sentence(r"I add an {title} module for the appliance"))
def add_module(world: World, title: str) -> None:
    _add(world, title=title)


@step(sentence(rf"I add an {{title}} module for the appliance in the {REGION} Threat Response"))
def add_in_region(world: World, title: str, region: str) -> None:
    _add(world, title=title, region=region)


@step(sentence(r"I (?:try to )?add an {title} module for the appliance with:"))
def add_with(world: World, title: str, datatable: list[list[str]]) -> None:
    _add(world, {k: world.text(v) for k, v in table_dict(datatable).items()}, title=title)


@then("the module is saved")
def module_saved(world: World) -> None:
    world.check(
        world.seen.ctr.module is not None and world.seen.ctr.module.get("id"),
        "Save completes the module configuration",
        world.seen.ctr.module_error,
        "Add New Module",
    )


@then("Threat Response refuses the module")
def module_refused(world: World) -> None:
    world.check(
        world.seen.ctr.module is None and world.seen.ctr.module_error is not None,
        "the module is not saved",
        world.seen.ctr.module or "saved",
        "Add New Module",
    )


@then(sentence(r"the module's {setting} is {value}"))
def module_setting(world: World, setting: str, value: str) -> None:
    module = world.seen.ctr.module or {}
    if setting == "Module Name":
        observed = str(module.get("name", ""))
    else:
        spec = world.spec_field(module.get("_type") or {}, setting) or {}
        observed = str((module.get("settings") or {}).get(spec.get("key", ""), ""))
    world.check(
        full_match(value, observed, world.values),
        f"{setting}: {world.text(value)}",
        f"{setting}: {observed}",
        "the saved module",
    )


@step("I list the available module types in Threat Response")
def list_module_types(world: World) -> None:
    world.seen.sse.listed = world.ctr().module_types()
    world.seen.sse.listed_where = "Available Modules"


@then(sentence(r"the module types include {title} marked beta"))
def module_type_beta(world: World, title: str) -> None:
    entry = next((t for t in world.seen.sse.listed if t.get("title") == title), None)
    world.check(
        entry is not None and "beta" in (entry.get("flags") or []),
        f'"{title}" (beta)',
        [(t.get("title"), t.get("flags")) for t in world.seen.sse.listed],
        "Available Modules",
    )


# ---- Investigate (VER-5, VER-6, TS-2) -----------------------------------------------------------------
@step(sentence(r"I investigate {query} in Threat Response"))
def investigate(world: World, query: str) -> None:
    world.investigate(world.text(query))


@step(sentence(rf"I investigate {{query}} in the {REGION} Threat Response"))
def investigate_in(world: World, query: str, region: str) -> None:
    world.investigate(world.text(query), region)


@then("within the mail_tracked deadline the investigation shows a sighting from the module")
def shows_sighting(world: World) -> None:
    sightings = world.reinvestigate_until_sighting()
    world.check(
        sightings,
        f"a sighting from the module for {world.seen.ctr.investigated}",
        world.seen.ctr.investigation,
        "Investigate",
    )


@then("within the mail_tracked deadline the investigation shows a sighting from the module with:")
def shows_sighting_with(world: World, datatable: list[list[str]]) -> None:
    sightings = world.reinvestigate_until_sighting()
    world.check(
        sightings,
        f"a sighting from the module for {world.seen.ctr.investigated}",
        world.seen.ctr.investigation,
        "Investigate",
    )
    wanted = table_dict(datatable)
    match = [s for s in sightings if all(str(s.get(k, "")) == world.text(v) for k, v in wanted.items())]
    world.check(
        match, wanted, [{k: s.get(k) for k in wanted} for s in sightings], f"sighting for {world.seen.ctr.investigated}"
    )


@then("the investigation shows no sighting from the module")
def shows_no_sighting(world: World) -> None:
    sightings = world.module_sightings()
    world.check(
        not sightings,
        f"no data from the appliance for {world.seen.ctr.investigated}",
        [s.get("description") for s in sightings],
        "Investigate",
    )


@then("the sighting relates the observables:")
def sighting_relates(world: World, datatable: list[list[str]]) -> None:
    sightings = world.module_sightings()
    related: set[tuple[str, str]] = set()
    for s in sightings:
        for rel in s.get("relations") or []:
            for side in ("source", "related"):
                obs = rel.get(side) or {}
                related.add((str(obs.get("type")), str(obs.get("value"))))
        # Only the relations: the sighting's own observables include the query, which proves nothing (VER-5).
    for row in table_rows(datatable):
        item = (row[0].strip(), world.text(row[1].strip()))
        world.check(
            item in related, f"{item[0]}:{item[1]} in the sighting's relations", sorted(related), "Relations Graph"
        )


# ---- remediation (REM-1, REM-2) -------------------------------------------------------------------------
def _actions(world: World, query: str) -> list[dict[str, Any]]:
    client = world.ctr()
    found = client.inspect(world.text(query))
    data = client.respond(found).get("data") or [] if found else []
    mine = (world.seen.ctr.module or {}).get("id")
    return [a for a in data if not mine or a.get("module_instance_id") == mine]


@then(sentence(r"Threat Response offers the response actions for {query}:"))
def offers_actions(world: World, query: str, datatable: list[list[str]]) -> None:
    titles = [a.get("title") for a in _actions(world, query)]
    for wanted in table_column(datatable):
        world.check(wanted in titles, f'"{wanted}" in the pivot menu', titles, f"response actions for {query}")


@step(sentence(r"I run the {action} response action on {query} in Threat Response"))
def run_action(world: World, action: str, query: str) -> None:
    world.seen.ctr.action_result, world.seen.ctr.action_error = None, None
    actions = [a for a in _actions(world, query) if a.get("title") == action]
    world.check(actions, f'a "{action}" action for {world.text(query)}', _actions(world, query), "pivot menu")
    chosen = actions[0]
    obs = world.ctr().inspect(world.text(query))[0]
    try:
        world.seen.ctr.action_result = world.ctr().trigger(
            chosen["module_instance_id"], chosen["id"], obs["type"], obs["value"]
        )
    except (ApiError, AuthenticationFailed) as exc:
        world.seen.ctr.action_error = exc


def _action_ok(world: World) -> bool:
    result = world.seen.ctr.action_result or {}
    return world.seen.ctr.action_error is None and (result.get("data") or {}).get("status") == "success"


@then("the response action succeeds")
def action_succeeds(world: World) -> None:
    world.check(
        _action_ok(world),
        "the remediation action succeeds",
        world.seen.ctr.action_error or world.seen.ctr.action_result,
        "response action",
    )


@then("the response action fails")
def action_fails(world: World) -> None:
    world.check(
        not _action_ok(world),
        "the remediation action fails (a prerequisite of REM-1 is missing)",
        world.seen.ctr.action_result,
        "response action",
    )


@then(sentence(r"within the mail_tracked deadline Message Tracking shows the message's last state containing {text}"))
def tracking_last_state(world: World, text: str) -> None:
    """Monitor > Message Tracking, searched by the message's subject: its LAST STATE line."""
    mid = int(world.values["mid"])
    subject = str(world.seen.mail.sent.get("subject", ""))

    def probe() -> str:
        rows = world.gui.track_messages(subject=subject, match="Is")
        return " | ".join(r.last_state for r in rows if r.mid == mid) or f"(MID {mid} not found)"

    try:
        observed = world.poll("mail_tracked", probe, lambda s: text in s, "the remediation in tracking")
    except AssertionError as exc:
        observed = str(getattr(exc, "last", exc))
    world.check(text in observed, f'MID {mid}: "{text}"', observed, "Message Tracking, LAST STATE")
