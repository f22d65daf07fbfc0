"""SecureX ribbon, casebook and pivot menu (RIB-1..RIB-6), through the Threat Response APIs the widgets use.

The ribbon logs in with an API client (client ID, client password, server) and then calls IROH and
private intelligence with that client's token; what it can do is what the client's scopes allow.
API clients are made in the portal (API Clients page); the simulator makes them through its control
plane, a real tenant needs a person (the scenarios carry ``@manual``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_bdd import given, step, then

from harness.cloud import ThreatResponseClient
from harness.errors import ApiError, AuthenticationFailed

from .text import REGION, sentence, table_column, table_rows
from .world import World, authenticate

RIBBON_SCOPES = [  # RIB-1, as seeds 000/001 list them
    "casebook", "enrich:read", "global-intel:read", "inspect:read", "integration:read", "profile", "private-intel",
    "response", "registry/user/ribbon", "telemetry:write", "users:read",
]


def _create_client(world: World, scopes: list[str], region: str | None = None) -> None:
    region = region or world.lab.region
    client_id, secret, undo = world.lab.control.api_client(region, scopes, "ctrlab ribbon")
    world.lab.mask(secret)
    world.seen.ctr.ribbon.update(client_id=client_id, client_secret=secret, client_region=region)
    world.on_teardown("delete the ribbon API client", undo)


@given("a Threat Response API client with the ribbon scopes")
def ribbon_client(world: World) -> None:
    _create_client(world, RIBBON_SCOPES)


@given(sentence(rf"a Threat Response API client with the ribbon scopes in the {REGION} region"))
def ribbon_client_in(world: World, region: str) -> None:
    _create_client(world, RIBBON_SCOPES, region)


@given(sentence(r"a Threat Response API client with the ribbon scopes except {scope}"))
def ribbon_client_without(world: World, scope: str) -> None:
    _create_client(world, [s for s in RIBBON_SCOPES if s != scope])


@given("a Threat Response API client with the scopes:")
def client_with_scopes(world: World, datatable: list[list[str]]) -> None:
    _create_client(world, table_column(datatable))


def _authenticate(world: World, region: str, secret: str | None = None) -> None:
    client, error = authenticate(world.lab, region, world.seen.ctr.ribbon["client_id"],
                                 secret if secret is not None else world.seen.ctr.ribbon["client_secret"])
    world.seen.ctr.ribbon.update(client=client, error=error, region=region)
    if client is not None:
        world.on_teardown("close the ribbon client", client.close)


@step(sentence(rf"I authenticate the ribbon with the client on the {REGION} server"))
def authenticate_ribbon(world: World, region: str) -> None:
    _authenticate(world, region)


@step(sentence(rf"I authenticate the ribbon with the client and the password {{password}} on the {REGION} server"))
def authenticate_wrong(world: World, password: str, region: str) -> None:
    _authenticate(world, region, password)


@then("the authentication succeeds")
def auth_ok(world: World) -> None:
    world.check(
        world.seen.ctr.ribbon.get("client") is not None,
        "Authenticate logs the ribbon in",
        world.seen.ctr.ribbon.get("error"),
        "Login to use SecureX Ribbon",
    )


@then("the authentication is refused")
def auth_refused(world: World) -> None:
    world.check(
        world.seen.ctr.ribbon.get("client") is None,
        "the login is refused",
        "authenticated",
        "Login to use SecureX Ribbon",
    )


def _client(world: World) -> ThreatResponseClient:
    client = world.seen.ctr.ribbon.get("client")
    if client is None:
        raise LookupError(f"the ribbon is not authenticated: {world.seen.ctr.ribbon.get('error')}")
    return client


@then("the token grants the scopes:")
def token_grants(world: World, datatable: list[list[str]]) -> None:
    client = _client(world)
    client.token()
    missing = [s for s in table_column(datatable) if s not in client.scopes]
    world.check(not missing, table_column(datatable), client.scopes, "granted scopes")


def _create_casebook(client: ThreatResponseClient) -> Any:
    book = client.create_casebook("ctrlab scope check", "created to check the casebook scope")
    client.delete_casebook(str(book["id"]))
    return book


CAPABILITIES: dict[str, Callable[[ThreatResponseClient], Any]] = {
    "create a casebook": _create_casebook,
    "enrich an observable": lambda c: c.observe([{"type": "domain", "value": "cisco.com"}]),
    "list response actions": lambda c: c.respond([{"type": "domain", "value": "cisco.com"}]),
    "inspect text": lambda c: c.inspect("cisco.com"),
    # The ribbon's own app registry is behind registry/user/ribbon: its token must carry that scope.
    "open the ribbon": lambda c: c.token() and ("registry/user/ribbon" in c.scopes or _refuse("registry/user/ribbon")),
}


def _refuse(scope: str) -> Any:
    raise PermissionError(f"the token lacks the {scope} scope")


def _try(world: World, use: str) -> tuple[bool, object]:
    try:
        return True, CAPABILITIES[use](_client(world))
    except (ApiError, AuthenticationFailed, PermissionError) as exc:
        return False, exc


@then(sentence(r"the client can {use}"))
def client_can(world: World, use: str) -> None:
    ok, observed = _try(world, use)
    world.check(ok, f"the client can {use}", observed, f"scopes {_client(world).scopes}")


@then(sentence(r"the client cannot {use}"))
def client_cannot(world: World, use: str) -> None:
    ok, observed = _try(world, use)
    world.check(
        not ok, f"the client cannot {use} (a required scope is missing)", observed, f"scopes {_client(world).scopes}"
    )


# ---- pivot menu and casebook (RIB-4, RIB-5) -------------------------------------------------------------
def _found(world: World, value: str) -> list[dict[str, str]]:
    """What Threat Response recognises in a text (iroh-inspect): the pivot menu sits beside these."""
    return _client(world).inspect(value)


@step(sentence(r"I pivot {kind} {value} to a new case"))
def pivot_new(world: World, kind: str, value: str) -> None:
    client = _client(world)
    book = client.create_casebook("New Case", "", [{"type": kind, "value": value}])
    world.seen.ctr.ribbon["case"] = str(book["id"])
    world.on_teardown("delete the case", lambda: client.delete_casebook(str(book["id"])))


@then(sentence(r"Threat Response recognises {value} as a {kind} observable"))
def recognised_as(world: World, value: str, kind: str) -> None:
    """RIB-5: the cloud's own reading of the observable (iroh-inspect), compared with the documented type."""
    found = _found(world, value)
    world.check({"type": kind, "value": value} in found, f'"{value}" is a {kind} observable (RIB-5: IP address, '
                f"domain, URL, SHA-256 file hash)", found, "Threat Response inspect")


@step(sentence(r"I pivot {kind} {value} to the current case"))
def pivot_current(world: World, kind: str, value: str) -> None:
    _client(world).add_observables(world.seen.ctr.ribbon["case"], [{"type": kind, "value": value}])


@step(sentence(r"I give the case the title {title}, the description {description} and the note {note}"))
def describe_case(world: World, title: str, description: str, note: str) -> None:
    client = _client(world)
    client.update_casebook(world.seen.ctr.ribbon["case"], title=title, description=description)
    client.casebook_texts(world.seen.ctr.ribbon["case"], "add", [{"type": "note", "text": note}])


def _case(world: World) -> dict[str, Any]:
    return _client(world).casebook(world.seen.ctr.ribbon["case"])


@then(sentence(r"the casebook shows a case containing {kind} {value}"))
def case_contains(world: World, kind: str, value: str) -> None:
    books = _client(world).search_casebooks()
    ids = [str(b.get("id", "")).rpartition("/")[2] for b in books]
    case = _case(world)
    wanted = {"type": kind, "value": value}
    world.check(
        world.seen.ctr.ribbon["case"].rpartition("/")[2] in ids and wanted in (case.get("observables") or []),
        f"the casebook lists the case with {wanted}",
        case,
        "Casebook",
    )


@then(sentence(r"the case contains {kind} {value}"))
def case_has(world: World, kind: str, value: str) -> None:
    case = _case(world)
    wanted = {"type": kind, "value": value}
    world.check(wanted in (case.get("observables") or []), wanted, case.get("observables"), "Casebook")


@then(sentence(r"the case has the title {title}, the description {description} and the note {note}"))
def case_described(world: World, title: str, description: str, note: str) -> None:
    case = _case(world)
    texts = [t.get("text") for t in case.get("texts") or []]
    ok = case.get("title") == title and case.get("description") == description and note in texts
    world.check(
        ok,
        {"title": title, "description": description, "note": note},
        {"title": case.get("title"), "description": case.get("description"), "texts": texts},
        "Casebook",
    )


@step("I investigate the case")
def investigate_case(world: World) -> None:
    """"Investigate this Case": the case's observables, as the casebook returns them, investigated."""
    client = _client(world)
    observables = _case(world).get("observables") or []
    query = "\n".join(f'{o.get("type")}:"{o.get("value")}"' for o in observables)
    found = client.inspect(query) if query else []
    world.seen.ctr.investigation = {"query": query, "observables": found, **client.observe(found)}


@then("the investigation covers the observables:")
def investigation_covers(world: World, datatable: list[list[str]]) -> None:
    """Compared with what the cloud returned: the casebook's observables, read back, and what Investigate
    recognised in them, never with what the scenario itself put in."""
    case = [{"type": o.get("type"), "value": o.get("value")} for o in _case(world).get("observables") or []]
    investigated = (world.seen.ctr.investigation or {}).get("observables") or []
    for row in table_rows(datatable):
        wanted = {"type": row[0].strip(), "value": row[1].strip()}
        world.check(wanted in case and wanted in investigated, f"{wanted} in the case and in its investigation",
                    {"case": case, "investigated": investigated}, "Investigate this Case")
