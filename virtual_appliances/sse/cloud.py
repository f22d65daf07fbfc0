"""Security Services Exchange for the lab: one SSE per region (nam, eu, apjc) plus EST.

The lab's netlab serves each app on its FQDN with TLS; nothing here listens by itself. The Threat
Response simulator reads tenants and devices in-process (``tenant()``, ``devices()``), as the real CTR
reads them from SSE once Threat Response is enabled on the Cloud Services tab.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from aiohttp import web

from ..common.clock import SimClock
from ..common.pki import LabCA
from ..common.redact import Redactor
from ..common.regions import REGIONS
from ..common.reqlog import RequestLog, logging_middleware
from .admin_api import AdminApi
from .control import control_app
from .device_api import DeviceApi
from .est import EstServer
from .http import fault_middleware
from .model import Device, RegionSSE, Tenant

log = logging.getLogger("virtual_appliances.sse")

TENANT_NAMES = {"nam": "ctrlab NAM", "eu": "ctrlab EU", "apjc": "ctrlab APJC"}


class SSECloud:
    def __init__(self, clock: SimClock, redactor: Redactor, reqlog: RequestLog, ca: LabCA) -> None:
        self.clock = clock
        self.redactor = redactor
        self.reqlog = reqlog
        self.ca = ca
        # The admin API keys outlive reset(): the testbed handed to the harness names them.
        self._admin_keys = {region: secrets.token_urlsafe(24) for region in REGIONS}
        for key in self._admin_keys.values():
            redactor.add(key)
        self._regions: dict[str, RegionSSE] = {}
        self.est_fault_status: int | None = None
        self.enrollments = 0
        self.reset()

    # ---- apps -----------------------------------------------------------------------------------
    def device_app(self, region: str) -> web.Application:
        """The connector API of a region, for api-sse.cisco.com / api.eu.sse.itd.cisco.com / ..."""
        self._check(region)
        api = DeviceApi(self, region)
        app = web.Application(middlewares=[
            logging_middleware(f"sse/{region}/device", self.reqlog),
            fault_middleware(lambda: self.region_state(region).faults.device_api_status),
        ])
        app.add_routes(api.routes())
        return app

    def admin_app(self, region: str) -> web.Application:
        """The admin API of a region's portal, for admin.sse.itd.cisco.com / admin.eu... / admin.apj..."""
        self._check(region)
        api = AdminApi(self, region)
        app = web.Application(middlewares=[
            logging_middleware(f"sse/{region}/admin", self.reqlog),
            fault_middleware(lambda: self.region_state(region).faults.admin_api_status),
            api.auth_middleware,
        ])
        app.add_routes(api.routes())
        return app

    def est_app(self) -> web.Application:
        """EST for every region, for est.sco.cisco.com."""
        server = EstServer(self.ca, on_enroll=lambda cert: self._enrolled())
        app = web.Application(middlewares=[
            logging_middleware("sse/est", self.reqlog),
            fault_middleware(lambda: self.est_fault_status),
        ])
        app.add_routes(server.routes())
        return app

    def control_app(self) -> web.Application:
        """Mounted by the lab at /_sim/sse, under its (logging) control app."""
        return control_app(self)

    # ---- in-process API ---------------------------------------------------------------------------
    def admin_api_key(self, region: str) -> str:
        self._check(region)
        return self._admin_keys[region]

    def reset(self) -> None:
        """Every region back to an empty tenant with Threat Response disabled; no faults."""
        self._regions = {region: RegionSSE(region, TENANT_NAMES.get(region, f"ctrlab {region}"))
                         for region in REGIONS}
        self.est_fault_status = None
        self.enrollments = 0

    def region_state(self, region: str) -> RegionSSE:
        self._check(region)
        return self._regions[region]

    def tenant(self, region: str) -> Tenant:
        return self.region_state(region).tenant

    def devices(self, region: str) -> list[Device]:
        """Registered devices of the region, with api_url and api_token for calling them back."""
        return self.region_state(region).sorted_devices()

    def snapshot(self) -> dict[str, Any]:
        now = self.clock.now()
        return {"regions": {r: s.snapshot(now) for r, s in self._regions.items()},
                "est": {"enrollments": self.enrollments, "fault_status": self.est_fault_status}}

    def log_event(self, region: str, event: str, device: Device) -> None:
        log.info("sse/%s: device %s (%s, %s) %s", region, device.id, self.redactor.text(device.name),
                 device.type, event)

    # ---- internals --------------------------------------------------------------------------------
    def _enrolled(self) -> None:
        self.enrollments += 1

    @staticmethod
    def _check(region: str) -> None:
        if region not in REGIONS:
            raise KeyError(f"unknown region {region!r}; regions: {', '.join(REGIONS)}")
