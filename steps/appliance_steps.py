"""The appliance's cloud service life cycle: known states, the documented procedures by interface,
and what Network > Cloud Service Settings / the CLI then show (ENA, REG)."""

from __future__ import annotations

from pytest_bdd import given, step, then

from harness.facts import REGION_OF_SERVER, SERVER_LABEL

from .expect import contains
from .placeholders import search
from .text import DEADLINE, INTERFACE, REGION, lab_wide, sentence
from .world import World

REGISTERED_TEXT = "The <product> is successfully registered with the Cisco Threat Response portal."
TOKEN_FAILURE_TEXT = "The registration failed because of an invalid or expired token."


# ---- known states -----------------------------------------------------------------------------------
@given("the appliance starts with cloud services disabled")
def start_disabled(world: World) -> None:
    world.start_disabled()


@given("the appliance is waiting for a registration token")
def waiting_for_token(world: World) -> None:
    world.waiting_for_token()


@given(sentence(r"the appliance is waiting for a registration token on server {server}"))
def waiting_for_token_on(world: World, server: str) -> None:
    world.waiting_for_token(server)


@given("the appliance is registered with Threat Response")
def registered(world: World) -> None:
    world.registered()


@given(sentence(r"the appliance is registered with Threat Response on server {server}"))
def registered_on(world: World, server: str) -> None:
    world.registered(server)


# ---- the procedures, by interface -------------------------------------------------------------------
@step(sentence(rf"I enable Threat Response with server {{server}} through the {INTERFACE}"))
def enable_through(world: World, server: str, interface: str) -> None:
    world.enable(server, interface)


@step(sentence(rf"I register the appliance with the token through the {INTERFACE}"))
def register_with_token(world: World, interface: str) -> None:
    world.register(world.token, interface)


@step(sentence(rf"I register the appliance with a new token from the {REGION} SSE through the {INTERFACE}"))
def register_with_new_token(world: World, region: str, interface: str) -> None:
    world.register(world.new_token(region), interface)


@step(sentence(rf"I register the appliance with token <n:\d+> of the batch through the {INTERFACE}"))
def register_with_batch_token(world: World, n: str, interface: str) -> None:
    batch = world.seen.sse.token_batch.tokens if world.seen.sse.token_batch is not None else world.seen.sse.tokens
    world.remember_token(batch[int(n) - 1])
    world.register(world.token, interface)


@step(sentence(rf"I deregister the appliance through the {INTERFACE}"))
def deregister_through(world: World, interface: str) -> None:
    world.deregister(interface)


@step(sentence(rf"I switch the Threat Response server to {{server}} through the {INTERFACE}"))
def switch_server(world: World, server: str, interface: str) -> None:
    world.switch_server(server, interface)


@step("I reregister the appliance through the CLI")
def reregister_cli(world: World) -> None:
    # REG-9: keep the server (Enter), no token (Enter), confirm the reregistration (yes).
    world.run_cli("cloudserviceconfig", ["REREGISTER", "", "", "yes"])


# ---- what the appliance shows -------------------------------------------------------------------------
@then(sentence(r"the appliance shows Threat Response {enabled} with server {label}"))
def shows_enabled_with(world: World, enabled: str, label: str) -> None:
    state = world.cloud_state()
    if world.interface == "CLI":
        # The CLI names the server only when SETTRS sets it: "Selected threat response server is <fqdn>." (REG-4)
        fqdn = label.partition("(")[2].rstrip(")")
        said = f"Selected threat response server is {fqdn}."
        shown = contains(world.seen.cli.settrs, said)
        world.check(state.enabled == enabled and shown, f"threatresponseconfig: {enabled}; SETTRS: {said}",
                    f"{state.describe()}; SETTRS said: {world.seen.cli.settrs or '(nothing)'}", "the CLI")
        return
    expected = f"Threat Response: {enabled}; Threat Response Server: {label}"
    world.check(state.enabled == enabled and state.server == label, expected, state.describe(),
                "Network > Cloud Service Settings")


@then(sentence(rf"within the cloud_ready deadline the {INTERFACE} asks for a registration token"))
def interface_asks_for_token(world: World, interface: str) -> None:
    if interface == "GUI":
        state = world.wait_ready()
        world.check(state.token_field, "a Registration Token field and a Register button", state.describe())
        return
    try:
        world.poll("cloud_ready", world.asks_for_token_cli, lambda r: r[0],
                   "cloudserviceconfig > REGISTER to ask for a token")
        asked, out = True, ""
    except AssertionError as exc:
        asked, out = False, str(getattr(exc, "last", exc))
    world.check(asked, "Enter a registration token key to register your appliance with the Cisco Threat Response "
                       "portal.", out, "cloudserviceconfig > REGISTER")


@then("the CLI does not ask for a registration token")
def cli_does_not_ask(world: World) -> None:
    asked, out = world.asks_for_token_cli()
    world.check(not asked, "no registration token is asked before the integration is enabled and committed",
                out, "cloudserviceconfig > REGISTER")


@then(lab_wide("after the cloud_ready deadline the appliance still does not ask for a registration token"))
def still_no_token(world: World) -> None:
    ok, state = world.lab.time.hold("cloud_ready", world.cloud_state, lambda s: not s.token_field,
                                    owner=world.device.name)
    world.check(ok, "the appliance does not ask for a registration token while the change is not committed",
                state.describe(), "Network > Cloud Service Settings after the cloud_ready deadline")


@then(sentence(rf"within the {DEADLINE} deadline the page shows a {{field}} field and a {{button}} button"))
def within_deadline_field_and_button(world: World, deadline: str, field: str, button: str) -> None:
    state = world.wait_state(deadline, lambda s: s.token_field, f'a "{field}" field and a "{button}" button')
    world.check(state.token_field, f'a "{field}" field and a "{button}" button', state.describe())


@then(sentence(rf"within the {DEADLINE} deadline the page shows the status {{status}}"))
def within_deadline_status(world: World, deadline: str, status: str) -> None:
    expected = status
    # A failed registration is final: no need to wait out the deadline for a status that cannot come.
    state = world.wait_state(deadline, lambda s: search(expected, s.status, world.values) or s.failed,
                             f'the status "{world.text(expected)}"')
    world.check(search(expected, state.status, world.values), world.text(expected), state.status, "Status:")


@then("within the registration deadline the appliance is registered with Threat Response")
def within_registered(world: World) -> None:
    state = world.wait_registered()
    world.check(state.registered, world.text(REGISTERED_TEXT), state.describe(), "registration")


@then("within the registration deadline the registration fails")
def within_fails(world: World) -> None:
    state = world.wait_registered()
    world.check(state.failed and not state.registered,
                "the registration fails (the Registration Token field is shown again, the appliance is not "
                "registered)", state.describe(), "registration")


@then(sentence(r"the status reads {status}"))
def status_reads(world: World, status: str) -> None:
    state = world.cloud_state()
    world.check(search(status, state.status, world.values), world.text(status), state.status, "Status:")


@then("within the deregistration deadline the appliance asks for a registration token again")
def deregistered_again(world: World) -> None:
    state = world.wait_state("deregistration", lambda s: s.token_field and not s.registered,
                             "the Registration Token field again")
    world.check(state.token_field and not state.registered, "the deregistered appliance asks for a token again",
                state.describe())


@then("the appliance is still registered with Threat Response")
def still_registered(world: World) -> None:
    state = world.cloud_state()
    world.check(state.registered, world.text(REGISTERED_TEXT), state.describe(), "the registration is kept")


@then(sentence(rf"the {REGION} SSE lists the appliance as {{status}}"))
def sse_lists(world: World, region: str, status: str) -> None:
    entries = world.sse_entries(region)
    world.check(any(e.get("status") == status for e in entries),
                f'{world.device.hostname} listed with status "{status}" in the {region} SSE',
                entries or "(not listed)", "SSE Devices")


@then(sentence(rf"the {REGION} SSE does not list the appliance as {{status}}"))
def sse_does_not_list(world: World, region: str, status: str) -> None:
    entries = world.sse_entries(region)
    world.check(not any(e.get("status") == status for e in entries),
                f'{world.device.hostname} not listed as "{status}" in the {region} SSE', entries, "SSE Devices")


@then(sentence(r"the appliance is not listed in any SSE as {status}"))
def not_in_any_sse(world: World, status: str) -> None:
    listed = {r: [e for e in world.sse_entries(r) if e.get("status") == status] for r in world.sse_regions()}
    world.check(not any(listed.values()), f'{world.device.hostname} not "{status}" in any region', listed)


def server_label(server: str) -> str:
    return SERVER_LABEL.get(server.upper(), server)


def region_of(server: str) -> str:
    return REGION_OF_SERVER[server.upper()]
