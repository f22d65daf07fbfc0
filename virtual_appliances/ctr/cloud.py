"""Cisco Threat Response (IROH + private intel CTIA) per region, for the lab.

``api_app(region)`` is served on visibility{,.eu,.apjc}.amp.cisco.com, ``intel_app(region)`` on
private.intel{,.eu,.apjc}.amp.cisco.com. Both share the region's organisation: its API clients, token
signing key, rate limit, module instances and casebooks. Registered devices come from the SSE simulator
in-process, as the real CTR reads them from SSE.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ..common.clock import SimClock
from ..common.pki import LabCA
from ..common.redact import Redactor
from ..common.regions import REGIONS
from ..common.reqlog import RequestLog, logging_middleware
from ..sse import SSECloud
from .api_auth import TokenApi
from .api_casebook import CasebookApi
from .api_enrich import EnrichApi
from .api_integration import IntegrationApi
from .api_profile import ProfileApi
from .api_response import ResponseApi
from .control import control_app
from .email_module import EmailModules
from .gate import Gate
from .org import RegionCTR
from .sightings import iso

log = logging.getLogger("virtual_appliances.ctr")


class CTRCloud:
    def __init__(self, clock: SimClock, redactor: Redactor, reqlog: RequestLog, sse: SSECloud, ca: LabCA) -> None:
        self.clock = clock
        self.redactor = redactor
        self.reqlog = reqlog
        self.sse = sse
        self.ca = ca
        self.started_at = iso(clock.now())
        self._regions: dict[str, RegionCTR] = {}
        self.reset()

    # ---- apps -----------------------------------------------------------------------------------
    def api_app(self, region: str) -> web.Application:
        """IROH: oauth2, inspect, enrich, response, int, iroh-sse, profile."""
        modules = EmailModules(self, region)
        app = self._app(region, f"ctr/{region}/api")
        for api in (TokenApi(self, region), EnrichApi(self, region, modules), ResponseApi(self, region, modules),
                    IntegrationApi(self, region, modules), ProfileApi(self, region)):
            app.add_routes(api.routes())
        return app

    def intel_app(self, region: str) -> web.Application:
        """Private intelligence (CTIA): casebooks."""
        app = self._app(region, f"ctr/{region}/intel")
        app.add_routes(CasebookApi(self, region).routes())
        return app

    def control_app(self) -> web.Application:
        """Mounted by the lab at /_sim/ctr, under its (logging) control app."""
        return control_app(self)

    def _app(self, region: str, service: str) -> web.Application:
        self._check(region)
        gate = Gate(self, region)
        app = web.Application(middlewares=[logging_middleware(service, self.reqlog), gate.middleware])
        app.on_response_prepare.append(gate.add_headers)
        return app

    # ---- in-process API ---------------------------------------------------------------------------
    def create_client(self, region: str, scopes: list[str], name: str = "ctrlab", *, client_id: str | None = None,
                      secret: str | None = None) -> tuple[str, str]:
        """An API client of the region's organisation: ``(client_id, client_secret)``.

        ``client_id``/``secret`` re-create a known client after reset(), so a testbed that names it stays valid.
        """
        client = self.region_state(region).add_client(scopes, name, iso(self.clock.now()), client_id, secret)
        self.redactor.add(client.secret)
        log.info("ctr/%s: API client %s (%s) with scopes %s", region, client.client_id, name, " ".join(scopes))
        return client.client_id, client.secret

    def reset(self) -> None:
        """Every region empty: no API clients, modules or casebooks; default rate limit; no faults."""
        self._regions = {region: RegionCTR(region) for region in REGIONS}

    def region_state(self, region: str) -> RegionCTR:
        self._check(region)
        return self._regions[region]

    def snapshot(self) -> dict[str, Any]:
        now = self.clock.now()
        return {"regions": {r: s.snapshot(now) for r, s in self._regions.items()}}

    @staticmethod
    def _check(region: str) -> None:
        if region not in REGIONS:
            raise KeyError(f"unknown region {region!r}; regions: {', '.join(REGIONS)}")
