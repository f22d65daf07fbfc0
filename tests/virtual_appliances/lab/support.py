"""A whole lab in this process (``virtual_appliances.lab.Lab``), driven the way the tests need.

Each test runs its own event loop with ``run_lab``: the lab starts on it, the test's coroutine gets
it, and the lab stops afterwards. Control-plane calls go over real HTTP to the lab's control port.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from virtual_appliances.asyncos.model import Appliance, RegState
from virtual_appliances.lab import Lab, LabOptions

T = TypeVar("T")
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)


def run_lab(tmp_path: Path, body: Callable[[Lab], Awaitable[T]], **options: Any) -> T:
    async def main() -> T:
        lab = Lab(LabOptions(directory=tmp_path / "lab", **options))
        try:
            await lab.start()
            return await body(lab)
        finally:
            await lab.stop()

    return asyncio.run(main())


async def control(lab: Lab, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session, session.request(
            method, f"http://127.0.0.1:{lab.control_port}{path}", json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def awaiting_token(lab: Lab, appliance: Appliance) -> None:
    """Enabled, committed, and past "the cloud service is busy" (one clock jump)."""
    appliance.set_enabled(True)
    appliance.commit("test")
    status, answer = await control(lab, "POST", "/_sim/clock", {"advance_to_next": True, "owner": appliance.spec.name})
    assert status == 200 and answer["fired"]["owner"] == appliance.spec.name, answer
    assert appliance.state is RegState.AWAITING_TOKEN


def new_token(lab: Lab, region: str = "nam", expiration: str = "1h") -> str:
    return lab.sse.region_state(region).generate_tokens(1, expiration, lab.clock.now()).tokens[0]


async def let_exchange_start(lab: Lab, seconds: float = 0.05) -> None:
    """Give the connector's exchange a moment on the loop, so a pause lands in its middle."""
    await asyncio.sleep(seconds)
