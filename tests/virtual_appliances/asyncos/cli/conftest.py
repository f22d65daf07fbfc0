"""Fixtures: a simulated appliance whose SSH CLI listens on 127.0.0.1 (server on one background loop,
the SSH clients of the tests on another)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import asyncssh
import pytest

from tests.support.loop import BackgroundLoop, session_loop
from virtual_appliances.asyncos.model import Appliance, ApplianceSpec
from virtual_appliances.asyncos.ssh_cli import start_ssh_server
from virtual_appliances.common.clock import SimClock

from .support import HOST, CliLab

Factory = Callable[..., CliLab]
SEED_HOST = "mail1.example.com"  # the host of seed 003's transcripts
SEED_TIME = datetime(2018, 11, 19, 10, 4, 35, tzinfo=UTC)  # "Changes committed: Mon Nov 19 10:04:35 2018 GMT"


server_loop = session_loop()


client_loop = session_loop()


@pytest.fixture(scope="session")
def host_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture
def make_cli(server_loop: BackgroundLoop, client_loop: BackgroundLoop, host_key: asyncssh.SSHKey) -> Iterator[Factory]:
    """Start appliances on demand: ``make_cli(kind="sma", model="M600V", version="13.0.0-187")``."""
    started: list[CliLab] = []

    def factory(kind: str = "esa", model: str = "C100V", version: str = "13.0.0-392",
                hostname: str = SEED_HOST, gateway_variant: str = "securex") -> CliLab:
        spec = ApplianceSpec(name=f"{kind}1", hostname=hostname, kind=kind, model=model,  # type: ignore[arg-type]
                             version=version, gateway_variant=gateway_variant)
        clock = SimClock(speed=600, start=SEED_TIME)
        appliance = Appliance(spec, clock, password="pw-" + uuid.uuid4().hex[:12])
        acceptor = server_loop.run(start_ssh_server(appliance, HOST, 0, host_key))

        async def stop() -> None:
            acceptor.close()
            await acceptor.wait_closed()

        lab = CliLab(appliance, clock, acceptor.sockets[0].getsockname()[1], server_loop, client_loop, [stop])
        started.append(lab)
        return lab

    yield factory
    for lab in started:
        for stop in lab.stoppers:
            server_loop.run(stop())


@pytest.fixture
def esa(make_cli: Factory) -> CliLab:
    """The seed's appliance: an ESA C100V on AsyncOS 13.0.0-392 (Threat Response era)."""
    return make_cli()


@pytest.fixture
def sma(make_cli: Factory) -> CliLab:
    """Seed 003 is the SMA guide: an M600V on AsyncOS 13.0 (Threat Response era)."""
    return make_cli(kind="sma", model="M600V", version="13.0.0-187")


@pytest.fixture
def securex_esa(make_cli: Factory) -> CliLab:
    """A SecureX-era ESA (AsyncOS 14): APJC, REREGISTER, the rollback question of commit."""
    return make_cli(version="14.0.0-692")
