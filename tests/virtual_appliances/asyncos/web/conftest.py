"""Fixtures: simulated appliances served over real HTTPS and SMTP on a background event loop."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.loop import BackgroundLoop, session_loop
from virtual_appliances.asyncos.gui import gui_app
from virtual_appliances.asyncos.model import Appliance, ApplianceSpec
from virtual_appliances.asyncos.rest_api import api_app
from virtual_appliances.asyncos.smtp import start_smtp
from virtual_appliances.common.clock import SimClock
from virtual_appliances.common.pki import LabCA
from virtual_appliances.common.redact import Redactor
from virtual_appliances.common.reqlog import RequestLog, logging_middleware

from .support import Factory, SimAppliance, serve

bg_loop = session_loop()


@pytest.fixture(scope="session")
def lab_ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA(Path(tmp_path_factory.mktemp("lab-ca")))


async def _start(sim: SimAppliance, ca: LabCA) -> None:
    tls = ca.server_context("127.0.0.1", "localhost")
    name = sim.appliance.spec.name
    gui = gui_app(sim.appliance, middlewares=[logging_middleware(f"appliance/{name}/gui", sim.reqlog)])
    api = api_app(sim.appliance, sim.redactor,
                  middlewares=[logging_middleware(f"appliance/{name}/api", sim.reqlog)])
    sim.gui_app = gui
    gui_port, stop_gui = await serve(gui, tls)
    api_port, stop_api = await serve(api, tls)
    smtp = await start_smtp(sim.appliance, "127.0.0.1", 0)
    sim.gui_url = f"https://127.0.0.1:{gui_port}"
    sim.api_url = f"https://127.0.0.1:{api_port}"
    sim.smtp_port = smtp.port
    sim._stoppers += [stop_gui, stop_api, smtp.stop]


@pytest.fixture
def make_appliance(bg_loop: BackgroundLoop, lab_ca: LabCA) -> Iterator[Factory]:
    """Start appliances on demand: ``make_appliance(kind="sma", version="14.0.0-100")``."""
    started: list[SimAppliance] = []

    def factory(kind: str = "esa", version: str = "13.0.0-392", gateway_variant: str = "securex",
                name: str = "esa03") -> SimAppliance:
        spec = ApplianceSpec(name=name, hostname=f"{name}.mex-amp.inlab", kind=kind, version=version,  # type: ignore[arg-type]
                             gateway_variant=gateway_variant)
        clock = SimClock(speed=1.0)  # tests move time explicitly with advance()
        redactor = Redactor()
        sim = SimAppliance(appliance=Appliance(spec, clock, password="pw-" + uuid.uuid4().hex[:12]),
                           clock=clock, loop=bg_loop, ca_bundle=lab_ca.bundle, redactor=redactor,
                           reqlog=RequestLog(redactor))
        bg_loop.run(_start(sim, lab_ca))
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        bg_loop.run(sim.stop())


@pytest.fixture
def esa(make_appliance: Factory) -> SimAppliance:
    """The seed's appliance: ESA C100V, AsyncOS 13.0.0-392 (Threat Response era)."""
    return make_appliance()
