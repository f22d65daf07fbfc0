"""Lab time (issue 13 item 1): simulated time moves with the wall clock plus the jumps the harness asks
for; a paused or loaded lab does not turn into simulated minutes; network time-outs are real seconds.

The pauses here are the fault under test (a blocked event loop: what SIGSTOP or a starved host does to
the lab), not waits for a result.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from virtual_appliances.asyncos.model import RegState
from virtual_appliances.ctr.oauth import TOKEN_LIFETIME_S
from virtual_appliances.lab import DEFAULT_SPEED, Lab

from .support import awaiting_token, control, let_exchange_start, new_token, run_lab

PAUSE_S = 2.0


def block_the_lab(seconds: float = PAUSE_S) -> None:
    """Freeze the lab's event loop, as SIGSTOP or a starved host would."""
    time.sleep(seconds)


def test_lab_time_runs_with_the_wall_clock_by_default(tmp_path: Path) -> None:
    async def body(lab: Lab) -> float:
        before = lab.clock.now()
        block_the_lab()
        return (lab.clock.now() - before).total_seconds()

    assert DEFAULT_SPEED == 1.0
    elapsed = run_lab(tmp_path, body)
    assert PAUSE_S - 0.1 <= elapsed < PAUSE_S + 3, f"{PAUSE_S} s of a frozen lab became {elapsed:.0f} lab seconds"


@pytest.mark.parametrize("speed", [1.0, 600.0])
def test_a_lab_paused_mid_registration_still_registers(tmp_path: Path, speed: float) -> None:
    """The connector's exchange is under way when the lab freezes for 2 s; the verdict is unchanged, at
    the default speed and at the old 600x (network time-outs are real seconds, never scaled)."""
    async def body(lab: Lab) -> tuple[RegState, str]:
        esa1 = lab.fleet["esa1"]
        await awaiting_token(lab, esa1)
        esa1.register(new_token(lab))
        await let_exchange_start(lab)
        block_the_lab()
        status, answer = await control(lab, "POST", "/_sim/clock", {"advance_to_next": True, "owner": "esa1"})
        assert status == 200 and answer["settled"], answer
        return esa1.state, esa1.status_message()

    state, message = run_lab(tmp_path, body, speed=speed)
    assert state is RegState.REGISTERED, message


def test_a_one_hour_registration_token_survives_a_loaded_lab(tmp_path: Path) -> None:
    async def body(lab: Lab) -> RegState:
        esa1 = lab.fleet["esa1"]
        await awaiting_token(lab, esa1)
        token = new_token(lab, expiration="1h")
        block_the_lab()
        esa1.register(token)
        await control(lab, "POST", "/_sim/clock", {"advance_to_next": True, "owner": "esa1"})
        return esa1.state

    assert run_lab(tmp_path, body) is RegState.REGISTERED


def test_a_threat_response_access_token_survives_a_loaded_lab(tmp_path: Path) -> None:
    """600 s of validity (ctr-api.md) were one real second at the old 600x."""
    async def body(lab: Lab) -> dict[str, object]:
        state = lab.ctr.region_state("nam")
        client = next(iter(state.clients.values()))
        token = state.authority.issue(client, client.scopes, lab.clock.now().timestamp())
        block_the_lab()
        return state.authority.verify(token, lab.clock.now().timestamp())

    claims = run_lab(tmp_path, body)
    assert int(claims["exp"]) - int(claims["iat"]) == TOKEN_LIFETIME_S  # type: ignore[call-overload]


def test_advance_to_next_fires_exactly_the_next_event_of_that_owner(tmp_path: Path) -> None:
    async def body(lab: Lab) -> None:
        esa1, esa2 = lab.fleet["esa1"], lab.fleet["esa2"]
        await awaiting_token(lab, esa2)
        esa1.set_enabled(True)
        esa1.commit("test")  # esa1: "busy" for a few minutes, an event 180 s ahead
        esa2.register(new_token(lab))  # esa2: its result shows 60 s ahead
        status, clock = await control(lab, "GET", "/_sim/clock")
        owners = [(e["owner"], e["what"]) for e in clock["pending"]]
        assert ("esa1", "the cloud service is ready: the Registration Token field appears") in owners, owners
        assert ("esa2", "register: the connector's result shows") in owners, owners
        assert any(owner == "sse:nam" for owner, _ in owners), "the unused token's expiry is an event too"

        status, answer = await control(lab, "POST", "/_sim/clock", {"advance_to_next": True, "owner": "esa1"})
        assert status == 200 and answer["fired"]["owner"] == "esa1" and answer["settled"]
        assert esa1.state is RegState.AWAITING_TOKEN
        # esa1's event lay beyond esa2's: the jump passed it, and its work is done when the jump returns.
        assert esa2.state is RegState.REGISTERED

        esa1.register(new_token(lab))
        status, answer = await control(lab, "POST", "/_sim/clock", {"advance_to_next": True, "owner": "esa2"})
        assert status == 200 and answer["fired"] is None, "esa2 has nothing pending: nothing fires"
        assert esa1.state is RegState.IN_PROGRESS, "a jump for esa2 does not run esa1's event"
        status, answer = await control(lab, "POST", "/_sim/clock", {"advance_to_next": True, "owner": "esa1"})
        assert answer["fired"]["what"] == "register: the connector's result shows"
        assert esa1.state is RegState.REGISTERED
        assert answer["now"] == answer["fired"]["at"] or answer["now"] >= answer["fired"]["at"]

    run_lab(tmp_path, body, appliances=2)


def test_the_clock_route_refuses_bad_bodies_naming_the_field(tmp_path: Path) -> None:
    async def body(lab: Lab) -> None:
        for bad, field in (({"advance": "soon"}, "advance"), ({"advance_to_next": True, "owner": 3}, "owner"),
                           ({"jump": 1}, "jump")):
            status, answer = await control(lab, "POST", "/_sim/clock", bad)
            assert status == 400 and answer.get("field") == field, answer
        status, answer = await control(lab, "POST", "/_sim/clock", {"advance": -1})
        assert status == 400 and "forward" in answer["error"]

    run_lab(tmp_path, body)


def test_a_registration_behind_a_dropped_fqdn_fails_when_its_time_comes(tmp_path: Path) -> None:
    """The lab-time give-up of a stalled exchange: no real time-out needs to pass (the suite stays fast)."""
    async def body(lab: Lab) -> tuple[RegState, float]:
        esa1 = lab.fleet["esa1"]
        await awaiting_token(lab, esa1)
        lab.netlab.set_firewall("api-sse.cisco.com", lab.netlab.https_port, _drop())
        esa1.register(new_token(lab))
        started = time.monotonic()
        await control(lab, "POST", "/_sim/clock", {"advance_to_next": True, "owner": "esa1"})
        return esa1.state, time.monotonic() - started

    state, took = run_lab(tmp_path, body)
    assert state is RegState.FAILED
    assert took < 10, f"the give-up took {took:.1f} s of real time"


def _drop() -> object:
    from virtual_appliances.netlab.firewall import Action

    return Action.DROP


def test_autojump_fires_appliance_events_by_themselves_but_never_expires_tokens(tmp_path: Path) -> None:
    """``--autojump``: for clients that wait as on real gear (the keeper, doctor)."""
    async def body(lab: Lab) -> None:
        esa1 = lab.fleet["esa1"]
        batch = lab.sse.region_state("nam").generate_tokens(1, "1h", lab.clock.now())
        esa1.set_enabled(True)
        esa1.commit("test")
        end = time.monotonic() + 10
        while esa1.state is not RegState.AWAITING_TOKEN:
            assert time.monotonic() < end, "the cloud service never became ready by itself"
            await asyncio.sleep(0.05)  # poll to the deadline: the lab's own task makes the jump
        assert lab.clock.now() < batch.expires, "a cloud event (token expiry) is never auto-jumped"

    run_lab(tmp_path, body, autojump=0.1)
