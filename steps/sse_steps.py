"""Security Services Exchange: Cloud Services (PRE-2, TS-1), tokens (REG-1, REG-8), the device list
(VER-1)."""

from __future__ import annotations

import re

from pytest_bdd import given, step, then

from harness.errors import ApiError

from .placeholders import full_match
from .text import REGION, lab_wide, sentence, table_dict
from .world import World, expiry_code, expiry_hours

_HEX32 = re.compile(r"[0-9a-f]{32}")
SSE_FIELDS = {  # the device list's columns (VER-1) -> the admin API's keys
    "Name": "name", "Type": "type", "Version": "version", "Status": "status", "Description": "description",
    "ID": "id", "IP Address": "ip", "Connector Version": "connector_version", "Created": "created",
}


# ---- Cloud Services (PRE-2) ---------------------------------------------------------------------------
@given("Threat Response is enabled in SSE Cloud Services")
def tr_enabled(world: World) -> None:
    world.ensure_threat_response_in_sse()


@given(lab_wide("Threat Response is disabled in SSE Cloud Services"))
def tr_disabled(world: World) -> None:
    region = world.lab.region
    world.ensure_threat_response_in_sse()
    world.sse(region).set_cloud_service(False)
    world.lab.tr_enabled[region] = False

    def restore() -> None:
        world.sse(region).set_cloud_service(True)
        world.lab.tr_enabled[region] = True

    world.on_teardown(f"enable Threat Response in the {region} SSE again", restore)


@step(sentence(r"I enable {service} in SSE Cloud Services"))
def enable_service(world: World, service: str) -> None:
    sse = world.sse()
    names = [s.get("name") for s in sse.cloud_services()]
    world.check(service in names, f'a "{service}" service on the Cloud Services tab', names,
                "SSE Cloud Services")
    sse.set_cloud_service(True)
    world.lab.tr_enabled[world.lab.region] = True


@then(sentence(r"SSE Cloud Services shows {service} as <state:enabled|disabled>"))
def service_state(world: World, service: str, state: str) -> None:
    services = world.sse().cloud_services()
    entry = next((s for s in services if s.get("name") == service), None)
    world.check(entry is not None and entry.get("enabled") is (state == "enabled"), f'"{service}" listed, {state}',
                services, "SSE Cloud Services")


# ---- tokens (REG-1) ---------------------------------------------------------------------------------
def _generate(world: World, count: int, expiry: str | None, region: str | None = None) -> None:
    world.seen.sse.error = None
    try:
        # No expiry named: the request leaves the field alone, so SSE's own default applies (REG-1).
        batch = world.sse(region).generate_tokens(count, None if expiry is None else expiry_code(expiry))
    except ApiError as exc:
        world.seen.sse.error = exc
        return
    world.seen.sse.token_batch = batch
    for token in batch.tokens:
        world.remember_token(token)


def _generated(world: World, count: str, expiry: str | None) -> None:
    _generate(world, int(count), expiry)
    world.check(world.seen.sse.error is None, "SSE generates the tokens", world.seen.sse.error,
                "Add Devices and Generate Tokens")


@step(sentence(r"I generate <count:\d+> registration tokens? in SSE expiring in {expiry}"))
def generate(world: World, count: str, expiry: str) -> None:
    _generated(world, count, expiry)


@step(sentence(r"I generate <count:\d+> registration tokens? in SSE"))
def generate_default(world: World, count: str) -> None:
    """With no expiration chosen: SSE's own default applies (REG-1: 1 hour)."""
    _generated(world, count, None)


@step(sentence(r"I try to generate <count:-?\d+> registration tokens? in SSE expiring in {expiry}"))
def try_generate(world: World, count: str, expiry: str) -> None:
    _generate(world, int(count), expiry)


@then(sentence(r"SSE returns <count:\d+> tokens?"))
def returns_tokens(world: World, count: str) -> None:
    tokens = world.seen.sse.token_batch.tokens if world.seen.sse.token_batch else []
    world.check(len(tokens) == int(count), f"{count} token(s)", f"{len(tokens)} token(s)")


@then("every token is 32 hexadecimal digits")
def tokens_hex(world: World) -> None:
    tokens = world.seen.sse.token_batch.tokens if world.seen.sse.token_batch else []
    bad = [t for t in tokens if not _HEX32.fullmatch(t)]
    # Only the shape is shown: a token is a secret.
    world.check(tokens and not bad, "each token looks like 32 hex digits", [f"{len(t)} chars" for t in bad])


@then("the tokens are all different")
def tokens_distinct(world: World) -> None:
    tokens = world.seen.sse.token_batch.tokens if world.seen.sse.token_batch else []
    world.check(len(set(tokens)) == len(tokens), "distinct tokens", f"{len(tokens) - len(set(tokens))} duplicates")


@then(sentence(r"the tokens are valid for {expiry}"))
def tokens_valid_for(world: World, expiry: str) -> None:
    batch = world.seen.sse.token_batch
    hours = expiry_hours(expiry)
    message = f"The following tokens have been generated and will be valid for {hours} hour(s):"
    observed = f"valid_hours={getattr(batch, 'valid_hours', None)}; message: {getattr(batch, 'message', '')}"
    world.check(
        batch is not None and batch.valid_hours == hours and batch.message == message,
        f"{expiry}: {message!r}",
        observed,
        "Add Devices and Generate Tokens",
    )


@then("SSE refuses the request")
def sse_refuses(world: World) -> None:
    world.check(
        world.seen.sse.error is not None and 400 <= world.seen.sse.error.status < 500,
        "SSE refuses a device count outside 1-100 or an expiration time it does not offer",
        world.seen.sse.error
        or f"accepted: {len(world.seen.sse.token_batch.tokens) if world.seen.sse.token_batch else 0} tokens",
    )


@step("I save the tokens to a file")
def save_tokens(world: World) -> None:
    world.seen.sse.token_file = world.sse().tokens_file(world.seen.sse.token_batch.batch_id)


@then(sentence(r"the file lists the same <count:\d+> tokens, one per line"))
def file_lists(world: World, count: str) -> None:
    lines = [line for line in (world.seen.sse.token_file or "").splitlines() if line.strip()]
    same = lines == list(world.seen.sse.token_batch.tokens)
    world.check(
        same and len(lines) == int(count),
        f"{count} tokens, one per line, as generated",
        f"{len(lines)} lines, same as generated: {same}",
        "Save To File",
    )


@given(sentence(rf"a registration token from the {REGION} SSE"))
def token_from(world: World, region: str) -> None:
    world.new_token(region)


@given(sentence(r"a made-up registration token {token}"))
def made_up_token(world: World, token: str) -> None:
    world.remember_token(token)


@given(lab_wide(sentence(rf"an expired registration token from the {REGION} SSE")))
def expired_token(world: World, region: str) -> None:
    world.new_token(region, "1h")
    # The region's SSE lets its outstanding tokens run out (what an hour of waiting does).
    world.lab.control.expire_tokens(region)


# ---- the device list (VER-1) ------------------------------------------------------------------------
@step(sentence(rf"I list the devices in the {REGION} SSE"))
def list_sse(world: World, region: str) -> None:
    world.seen.sse.listed = world.sse(region).devices()
    world.seen.sse.listed_where = f"{region} SSE"


@then(sentence(r"the appliance's entry shows:"))
def entry_shows(world: World, datatable: list[list[str]]) -> None:
    wanted = table_dict(datatable)
    entry = next((d for d in world.seen.sse.listed if d.get("name") == world.device.hostname), None)
    world.check(
        entry is not None,
        f"{world.device.hostname} in the {world.seen.sse.listed_where} device list",
        [d.get("name") for d in world.seen.sse.listed],
        "SSE Devices",
    )
    assert entry is not None
    for column, expected in wanted.items():
        key = SSE_FIELDS.get(column, column.lower())
        observed = str(entry.get(key, ""))
        world.check(
            full_match(expected, observed, world.values),
            f"{column}: {world.text(expected)}",
            f"{column}: {observed}",
            f"SSE device list, column {column}",
        )


# ---- a fresh tenant (PRE-2, TS-1) -------------------------------------------------------------------
@given(lab_wide("a fresh SSE tenant"))
def fresh_tenant(world: World) -> None:
    world.lab.control.fresh_sse_tenant(world.lab.region)
    world.lab.tr_enabled.clear()

    def restore() -> None:  # every other scenario expects Threat Response enabled (the set-up of PRE-2)
        for region in world.sse_regions():
            world.sse(region).set_cloud_service(True)
            world.lab.tr_enabled[region] = True

    world.on_teardown("enable Threat Response in every region's SSE again", restore)
