"""The simulated cloud served over real HTTPS for the tests, clients for it, and a tiny fake appliance.

Everything talks to the simulators over the wire: requests (verifying the lab CA) and the unchanged
official ``threatresponse`` client; the fake appliance is an aiohttp app the cloud calls back.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from aiohttp import web

from tests.support.loop import BackgroundLoop
from virtual_appliances.common.clock import SimClock
from virtual_appliances.common.pki import LabCA
from virtual_appliances.common.redact import Redactor
from virtual_appliances.common.regions import REGIONS
from virtual_appliances.common.reqlog import RequestLog, logging_middleware
from virtual_appliances.ctr import CTRCloud
from virtual_appliances.sse import SSECloud

TIMEOUT = 10.0  # seconds, for every network call of the tests
HOST = "127.0.0.1"
ALL_SCOPES = ["casebook", "enrich:read", "global-intel:read", "inspect:read", "integration", "profile",
              "private-intel", "response", "registry/user/ribbon", "telemetry:write", "users:read", "orbital", "sse"]
SHA = "8fda14f91e27afec5c1b1f71d708775c9b6e2af31e8331bbf26751bc0583dc7e"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class HttpClient(requests.Session):
    """A requests session bound to one base URL, verifying the lab CA, with a default timeout."""

    def __init__(self, base_url: str, ca_bundle: Path | None, headers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.base_url = base_url
        self.verify = str(ca_bundle) if ca_bundle else True
        self.trust_env = False  # REQUESTS_CA_BUNDLE and proxy variables must not override the lab CA
        self.headers.update(headers or {})

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        target = url.decode() if isinstance(url, bytes) else url
        if target.startswith("/"):
            target = self.base_url + target
        verb = method.decode() if isinstance(method, bytes) else method
        return super().request(verb, target, *args, **kwargs)


async def serve(app: web.Application, tls: Any = None) -> tuple[int, Callable[[], Awaitable[None]]]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0, ssl_context=tls)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return port, runner.cleanup


def asyncos_time(moment: datetime) -> str:
    return f"{moment.day:02d} {MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M:%S} (GMT +00:00)"


# ---- a fake appliance REST API ---------------------------------------------------------------------------
@dataclass
class FakeMessage:
    mid: int
    sender: str
    recipients: list[str]
    subject: str
    message_id: str
    sender_ip: str
    timestamp: datetime
    attachments: list[dict[str, str]] = field(default_factory=list)
    status: str = "Delivered"


class FakeAppliance:
    """The two AsyncOS REST calls the cloud makes back (docs/simulators.md), with what it was sent."""

    def __init__(self, kind: str = "esa") -> None:
        self.kind = kind
        self.prefix = f"/{kind}/api/v2.0"
        self.api_token = secrets.token_hex(32)
        self.messages: list[FakeMessage] = []
        self.searches: list[dict[str, str]] = []
        self.remediations: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.fail_status: int | None = None
        self.url = ""

    def add(self, message: FakeMessage) -> FakeMessage:
        self.messages.append(message)
        return message

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.get(f"{self.prefix}/message-tracking/messages", self._messages),
                        web.post(f"{self.prefix}/message-tracking/remediation", self._remediation)])
        return app

    def _check(self, request: web.Request) -> web.Response | None:
        self.authorizations.append(request.headers.get("Authorization", ""))
        if self.fail_status:
            return web.json_response({"error": {"message": "injected", "code": str(self.fail_status)}},
                                     status=self.fail_status)
        if request.headers.get("Authorization") != f"Bearer {self.api_token}":
            return web.json_response({"error": {"message": "Invalid username or passphrase.", "code": "401"}},
                                     status=401)
        return None

    async def _messages(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused:
            return refused
        q = dict(request.query)
        self.searches.append(q)
        for name in ("startDate", "endDate"):
            if not q.get(name, "").endswith(":00.000Z"):
                return web.json_response({"error": {"message": f"Invalid {name}", "code": "400"}}, status=400)
        start, end = (datetime.strptime(q[n], "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC)
                      for n in ("startDate", "endDate"))
        found = [m for m in self.messages if start <= m.timestamp < end + timedelta(minutes=1) and _matches(m, q)]
        data = [{"attributes": {
            "mid": [m.mid], "icid": m.mid + 100, "recipient": m.recipients, "sender": m.sender,
            "senderIp": m.sender_ip, "senderDomain": m.sender.rpartition("@")[2], "subject": m.subject,
            "messageID": {str(m.mid): f"<{m.message_id}>"}, "messageStatus": {str(m.mid): m.status},
            "direction": "incoming", "timestamp": asyncos_time(m.timestamp), "attachments": m.attachments,
        }} for m in found]
        return web.json_response({"meta": {"num_bad_records": 0, "totalCount": len(data)}, "data": data})

    async def _remediation(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused:
            return refused
        body = await request.json()
        self.remediations.append(body)
        mids = [m for m in body["data"]["mids"] if any(x.mid == m for x in self.messages)]
        return web.json_response({"data": {"action": body["data"]["action"], "mids": mids}})


def _matches(m: FakeMessage, q: dict[str, str]) -> bool:
    names = [a["name"] for a in m.attachments]
    hashes = [a["sha256"] for a in m.attachments]
    checks = {
        "subjectfilterValue": lambda v: m.subject == v,
        "envelopeSenderfilterValue": lambda v: m.sender == v,
        "ciscoMid": lambda v: str(m.mid) == v,
        "messageIdHeader": lambda v: m.message_id == v.strip("<>"),
        "fileSha256": lambda v: v in hashes,
        "attachmentNameValue": lambda v: v in names,
        "senderIp": lambda v: m.sender_ip == v,
        "domainNameValue": lambda v: m.sender.endswith("@" + v),
    }
    return all(check(q[key]) for key, check in checks.items() if key in q)


# ---- the cloud lab ------------------------------------------------------------------------------------------
@dataclass
class Endpoints:
    device: str
    admin: str
    api: str
    intel: str


class CloudLab:
    """SSE (3 regions + EST) and CTR (3 regions) served over HTTPS on 127.0.0.1, control plane over HTTP."""

    def __init__(self, loop: BackgroundLoop, ca: LabCA) -> None:
        self.loop = loop
        self.ca = ca
        self.clock = SimClock(speed=1.0)  # tests move time with advance()
        self.redactor = Redactor()
        self.reqlog = RequestLog(self.redactor)
        self.sse = SSECloud(self.clock, self.redactor, self.reqlog, ca)
        self.ctr = CTRCloud(self.clock, self.redactor, self.reqlog, self.sse, ca)
        self.regions: dict[str, Endpoints] = {}
        self.est_url = ""
        self.control_url = ""
        self._stoppers: list[Callable[[], Awaitable[None]]] = []
        self._appliance_stoppers: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        tls = self.ca.server_context(HOST, "localhost")

        async def url(app: web.Application) -> str:
            port, stop = await serve(app, tls)
            self._stoppers.append(stop)
            return f"https://{HOST}:{port}"

        for region in REGIONS:
            self.regions[region] = Endpoints(
                device=await url(self.sse.device_app(region)), admin=await url(self.sse.admin_app(region)),
                api=await url(self.ctr.api_app(region)), intel=await url(self.ctr.intel_app(region)))
        self.est_url = await url(self.sse.est_app())
        control = web.Application(middlewares=[logging_middleware("control", self.reqlog)])
        control.add_subapp("/_sim/sse", self.sse.control_app())
        control.add_subapp("/_sim/ctr", self.ctr.control_app())
        port, stop = await serve(control)
        self._stoppers.append(stop)
        self.control_url = f"http://{HOST}:{port}"

    async def stop(self) -> None:
        for stop in self._stoppers:
            await stop()

    def reset(self) -> None:
        self.sse.reset()
        self.ctr.reset()
        self.reqlog.clear()
        # Why a fresh redactor: it recompiles one pattern of every secret it knows on each new secret, and a
        # session mints thousands; the admin API keys outlive reset(), so they are registered again.
        self.redactor = Redactor(self.sse.admin_api_key(region) for region in REGIONS)
        self.sse.redactor = self.ctr.redactor = self.reqlog.redactor = self.redactor

    # ---- clients --------------------------------------------------------------------------------
    def http(self, base: str, **headers: str) -> HttpClient:
        return HttpClient(base, self.ca.bundle, headers)

    def admin(self, region: str = "nam", key: str | None = None) -> HttpClient:
        key = key if key is not None else self.sse.admin_api_key(region)
        return self.http(self.regions[region].admin, Authorization=f"Bearer {key}")

    def device_api(self, region: str = "nam") -> HttpClient:
        return self.http(self.regions[region].device)

    def control(self) -> HttpClient:
        return HttpClient(self.control_url, None)

    def new_client(self, region: str = "nam", scopes: list[str] | None = None) -> tuple[str, str]:
        body: dict[str, Any] = {"scopes": scopes or ALL_SCOPES}
        reply = self.control().post(f"/_sim/ctr/{region}/clients", json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()["client_id"], reply.json()["client_secret"]

    def access_token(self, region: str, client_id: str, secret: str) -> str:
        reply = self.http(self.regions[region].api).post(
            "/iroh/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret),
            headers={"Accept": "application/json"})
        assert reply.status_code == 200, reply.text
        return str(reply.json()["access_token"])

    def api(self, region: str = "nam", scopes: list[str] | None = None, intel: bool = False) -> HttpClient:
        """A client of the region's IROH (or private intel) with a fresh bearer token."""
        token = self.access_token(region, *self.new_client(region, scopes))
        base = self.regions[region].intel if intel else self.regions[region].api
        return self.http(base, Authorization=f"Bearer {token}")

    def environment(self, region: str = "nam") -> dict[str, str]:
        """The ``environment`` option of threatresponse.ThreatResponse for a region."""
        ends = self.regions[region]
        return {"visibility": ends.api, "private_intel": ends.intel, "global_intel": ends.intel}

    # ---- procedures -------------------------------------------------------------------------------
    def generate_token(self, region: str = "nam", expiration: str = "1h") -> str:
        reply = self.admin(region).post("/api/v1/tokens", json={"devices": 1, "expiration": expiration})
        assert reply.status_code == 201, reply.text
        return str(reply.json()["tokens"][0])

    def set_threat_response(self, region: str, enabled: bool) -> None:
        reply = self.admin(region).put("/api/v1/cloud-services/threat-response", json={"enabled": enabled})
        assert reply.status_code == 200, reply.text

    def register(self, region: str = "nam", name: str = "esa03.mex-amp.inlab", kind: str = "ESA",
                 appliance: FakeAppliance | None = None, token: str | None = None) -> str:
        """Register a device with the connector protocol; returns its device ID."""
        body: dict[str, Any] = {"token": token or self.generate_token(region),
                                "device": device_body(name, kind, appliance)}
        reply = self.device_api(region).post("/connector/v1/register", json=body)
        assert reply.status_code == 201, reply.text
        return str(reply.json()["device_id"])

    def add_module(self, api: HttpClient, device_id: str, kind: str = "esa", **settings: Any) -> dict[str, Any]:
        types = {t["title"]: t for t in api.get("/iroh/iroh-int/module-type").json()}
        title = {"esa": "Email Security Appliance", "sma-email": "SMA Email", "sma-web": "SMA Web"}[kind]
        module_type = types[title]
        reply = api.post("/iroh/iroh-int/module-instance", json={
            "name": module_type["default_name"], "module_type_id": module_type["id"], "visibility": "org",
            "settings": {"registered_device": device_id, **settings}})
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def start_appliance(self, appliance: FakeAppliance) -> FakeAppliance:
        async def start() -> None:
            port, stop = await serve(appliance.app(), self.ca.server_context(HOST, "localhost"))
            appliance.url = f"https://{HOST}:{port}"
            self._appliance_stoppers.append(stop)
        self.loop.run(start())
        return appliance

    def stop_appliances(self) -> None:
        async def stop_all() -> None:
            while self._appliance_stoppers:
                await self._appliance_stoppers.pop()()
        self.loop.run(stop_all())


def device_body(name: str, kind: str, appliance: FakeAppliance | None) -> dict[str, Any]:
    return {"name": name, "type": kind, "version": "13.0.0", "serial": "4229D9F1E4F4-4CBC1E5A6E39",
            "ip": HOST, "connector_version": "1.3.34", "description": kind,
            "api_url": appliance.url if appliance else f"https://{HOST}:9",
            "api_token": appliance.api_token if appliance else secrets.token_hex(32)}


# ---- procedures shared by the tests ---------------------------------------------------------------------
def seed_message(lab: CloudLab, appliance: FakeAppliance, **changes: Any) -> FakeMessage:
    """The seed's test mail: MID 8 from mgmt01@cisco.com to testingBren@cisco.com, subject "test test"."""
    fields: dict[str, Any] = dict(
        mid=8, sender="mgmt01@cisco.com", recipients=["testingBren@cisco.com"], subject="test test",
        message_id="0a1b2c3d@cisco.com", sender_ip="173.37.147.230",
        timestamp=lab.clock.now().replace(microsecond=0) - timedelta(hours=9),
        attachments=[{"name": "invoice.pdf", "sha256": SHA}])
    fields.update(changes)
    return appliance.add(FakeMessage(**fields))


def integrate(lab: CloudLab, start: Callable[..., FakeAppliance], region: str = "nam", **settings: Any
              ) -> tuple[HttpClient, FakeAppliance, dict[str, Any]]:
    """An appliance registered in SSE with Threat Response enabled, and its Email module added."""
    appliance = start()
    device_id = lab.register(region, appliance=appliance)
    lab.set_threat_response(region, True)
    api = lab.api(region)
    return api, appliance, lab.add_module(api, device_id, **settings)
