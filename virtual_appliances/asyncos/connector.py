"""The appliance's cloud connector: registration, deregistration and reregistration over HTTPS.

It resolves the cloud FQDNs with the lab's resolver, enrolls a device certificate with EST at
est.sco.cisco.com, then calls the selected server's SSE device API (docs/simulators.md).

Lab time: a job is a pending event of its appliance, "the result shows" SETTLE_SIM_SECONDS after the
request ("navigate back to this page after some time"). The exchange itself runs at once, with network
time-outs in real seconds (never lab time: a loaded host cannot fire them). When the event comes and the
exchange still runs while the lab's firewall drops an FQDN it needs, the appliance has given up: the
registration fails, as on a real appliance behind such a firewall. An exchange that is merely slow is
waited for, up to its real time-out, so a paused or loaded lab does not change the verdict.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..common.clock import Pending, SimClock
from ..common.regions import EST_FQDN, region_by_server
from ..netlab.client import lab_session
from . import messages as msg
from .model import CONNECTOR_VERSION, Appliance

log = logging.getLogger("virtual_appliances.connector")
T = TypeVar("T")

SETTLE_SIM_SECONDS = 60.0  # "navigate back to this page after some time": in progress stays visible
CONNECT_TIMEOUT_S = 10.0  # real seconds: TCP connect to a cloud FQDN (DNS has its own 5 s)
EXCHANGE_TIMEOUT_S = 30.0  # real seconds: one job's whole exchange (EST and the SSE call)
STALL_POLL_S = 0.05  # how often a due job re-checks a still-running exchange against the stall probe
Outcome = tuple[bool, str | None, str]  # ok, device id, failure message


@dataclass
class CloudNetwork:
    """How appliances reach the cloud: the lab resolver, CA, HTTPS port and optional proxy."""

    resolver: tuple[str, int]
    ssl_context: ssl.SSLContext
    https_port: int
    api_host: str = "127.0.0.1"  # the address the cloud uses to call the appliance back
    netns: str | None = None  # namespace mode: the appliance's sockets to the cloud start in this namespace


class Connector:
    def __init__(self, clock: SimClock, network: CloudNetwork,
                 dropped: Callable[[list[str]], bool] = lambda fqdns: False) -> None:
        self.clock = clock
        self.network = network
        self.dropped = dropped  # whether the lab's firewall drops one of these FQDNs (NetLab.dropped)
        self._tasks: dict[asyncio.Task[None], str] = {}  # job -> appliance name
        self.api_ports: dict[str, int] = {}  # appliance name -> REST API port, for the callback URL

    def __call__(self, appliance: Appliance, action: str, params: dict[str, Any]) -> None:
        name = appliance.spec.name
        # The event is on the schedule before this returns: a jump right after the request sees it.
        silent = action == "deregister" and bool(params.get("silent"))  # disabling: the appliance forgets at once
        shown = None if silent else self.clock.schedule(name, f"{action}: the connector's result shows",
                                                        SETTLE_SIM_SECONDS)
        task = asyncio.get_running_loop().create_task(self._run(appliance, action, params, shown))
        self._tasks[task] = name

        def finished(t: asyncio.Task[None]) -> None:
            self._tasks.pop(t, None)
            if shown is not None:
                self.clock.done(shown)  # also when cancelled before it ever ran

        task.add_done_callback(finished)

    async def cancel(self, name: str) -> int:
        """Cancel the jobs of one appliance (its reset): their events leave the lab's schedule."""
        mine = [t for t, owner in self._tasks.items() if owner == name]
        for task in mine:
            task.cancel()
        await asyncio.gather(*mine, return_exceptions=True)
        return len(mine)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- jobs ---------------------------------------------------------------------------------
    async def _run(self, appliance: Appliance, action: str, params: dict[str, Any], shown: Pending | None) -> None:
        deregister = action == "deregister"
        exchange: asyncio.Task[Outcome] = asyncio.create_task(
            self._deregister_exchange(appliance, params) if deregister
            else self._register_exchange(appliance, action, params))
        try:
            if shown is None:
                ok, device_id, failure = await exchange
            else:
                await self.clock.wait(shown)
                fqdns = [EST_FQDN, region_by_server(params["server"]).sse_api]
                ok, device_id, failure = await self._outcome(exchange, fqdns,
                                                             (False, None, msg.REGISTRATION_FAILED_NETWORK))
            # The appliance forgets its registration whatever SSE said (SSE may keep a stale record).
            appliance.connector_result(action, ok or deregister, device_id=device_id, failure=failure)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not kill the lab; the registration just fails
            log.exception("connector job %s failed for %s", action, appliance.spec.name)
            appliance.connector_result(action, False, failure=msg.REGISTRATION_FAILED_NETWORK)
        finally:
            exchange.cancel()
            if shown is not None:
                self.clock.done(shown)

    async def _register_exchange(self, appliance: Appliance, action: str, params: dict[str, Any]) -> Outcome:
        region = region_by_server(params["server"])
        try:
            async with self._session(appliance) as session:
                await self._enroll(session, appliance)
                body = {"device": self._device(appliance)}
                if action == "register":
                    body["token"] = params["token"]
                else:
                    body.update({k: params.get(k) for k in ("token", "device_id", "smart_account")})
                status, reply = await self._post(session, region.sse_api, f"/connector/v1/{action}", body)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.info("%s: %s to %s failed: %s", appliance.spec.name, action, region.sse_api, type(exc).__name__)
            return False, None, msg.REGISTRATION_FAILED_NETWORK
        if status in (200, 201):
            return True, reply.get("device_id"), ""
        return False, None, msg.REGISTRATION_FAILED_TOKEN

    async def _deregister_exchange(self, appliance: Appliance, params: dict[str, Any]) -> Outcome:
        region = region_by_server(params["server"])
        try:
            async with self._session(appliance) as session:
                await self._post(session, region.sse_api, "/connector/v1/deregister",
                                 {"device_id": params.get("device_id")},
                                 headers={"Authorization": f"Bearer {appliance.api_token}"})
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            # The appliance forgets its registration either way; SSE keeps a stale record.
            log.info("%s: deregister from %s failed: %s", appliance.spec.name, region.sse_api, type(exc).__name__)
            return False, None, msg.REGISTRATION_FAILED_NETWORK
        return True, None, ""

    async def _outcome(self, exchange: asyncio.Task[T], fqdns: list[str], given_up: T) -> T:
        """The exchange's result once it ends; ``given_up`` if it still runs while the firewall drops an
        FQDN it needs (it waits in vain). A slow exchange is waited for (up to its own real time-out):
        load never changes an outcome."""
        while not exchange.done():
            if self.dropped(fqdns):
                return given_up
            await asyncio.wait({exchange}, timeout=STALL_POLL_S)
        return exchange.result()

    # ---- protocol steps -----------------------------------------------------------------------
    def _session(self, appliance: Appliance) -> aiohttp.ClientSession:
        return lab_session(self.network.resolver, self.network.ssl_context, timeout=EXCHANGE_TIMEOUT_S,
                           proxy=appliance.lab.proxy, netns=self.network.netns, connect_timeout=CONNECT_TIMEOUT_S)

    def _url(self, fqdn: str, path: str) -> str:
        port = self.network.https_port
        return f"https://{fqdn}{'' if port == 443 else f':{port}'}{path}"

    async def _enroll(self, session: aiohttp.ClientSession, appliance: Appliance) -> None:
        """EST (RFC 7030) simple enrollment of the connector's device certificate."""
        async with session.get(self._url(EST_FQDN, "/.well-known/est/cacerts")) as resp:
            resp.raise_for_status()
            await resp.read()
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, appliance.spec.hostname),
                                     x509.NameAttribute(NameOID.SERIAL_NUMBER, appliance.spec.serial)]))
            .sign(key, hashes.SHA256())
        )
        body = base64.b64encode(csr.public_bytes(serialization.Encoding.DER))
        async with session.post(self._url(EST_FQDN, "/.well-known/est/simpleenroll"), data=body,
                                headers={"Content-Type": "application/pkcs10",
                                         "Content-Transfer-Encoding": "base64"}) as resp:
            resp.raise_for_status()
            await resp.read()

    async def _post(self, session: aiohttp.ClientSession, fqdn: str, path: str, body: dict[str, Any],
                    headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        async with session.post(self._url(fqdn, path), json=body, headers=headers) as resp:
            try:
                reply = await resp.json(content_type=None)
            except ValueError:
                reply = {}
            return resp.status, reply if isinstance(reply, dict) else {}

    def _device(self, appliance: Appliance) -> dict[str, Any]:
        spec = appliance.spec
        port = self.api_ports.get(spec.name)
        return {
            "name": spec.hostname,
            "type": spec.device_type,
            "version": spec.short_version,
            "serial": spec.serial,
            "ip": self.network.api_host,
            "connector_version": CONNECTOR_VERSION,
            "description": spec.device_type,
            "api_url": f"https://{self.network.api_host}:{port}" if port else None,
            "api_token": appliance.api_token,
        }
