"""The appliance's cloud connector: registration, deregistration and reregistration over HTTPS.

It resolves the cloud FQDNs with the lab's resolver, enrolls a device certificate with EST at
est.sco.cisco.com, then calls the selected server's SSE device API (docs/simulators.md). Each step has
a deadline on the simulated clock, floored to a wall-clock minimum so a loaded machine does not turn
a healthy handshake into a failure. A firewall that drops an FQDN therefore ends the registration in
the failed state after that deadline, as on a real appliance.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..common.clock import SimClock
from ..common.regions import EST_FQDN, region_by_server
from ..netlab.client import lab_session
from . import messages as msg
from .model import CONNECTOR_VERSION, Appliance

log = logging.getLogger("virtual_appliances.connector")

STEP_SIM_SECONDS = 120.0  # how long the appliance waits for one cloud exchange
STEP_MIN_REAL_SECONDS = 2.0
SETTLE_SIM_SECONDS = 60.0  # "navigate back to this page after some time": in progress stays visible


@dataclass
class CloudNetwork:
    """How appliances reach the cloud: the lab resolver, CA, HTTPS port and optional proxy."""

    resolver: tuple[str, int]
    ssl_context: ssl.SSLContext
    https_port: int
    api_host: str = "127.0.0.1"  # the address the cloud uses to call the appliance back
    netns: str | None = None  # namespace mode: the appliance's sockets to the cloud start in this namespace


class Connector:
    def __init__(self, clock: SimClock, network: CloudNetwork) -> None:
        self.clock = clock
        self.network = network
        self._tasks: set[asyncio.Task[None]] = set()
        self.api_ports: dict[str, int] = {}  # appliance name -> REST API port, for the callback URL

    def __call__(self, appliance: Appliance, action: str, params: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._run(appliance, action, params))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- jobs ---------------------------------------------------------------------------------
    async def _run(self, appliance: Appliance, action: str, params: dict[str, Any]) -> None:
        try:
            if action == "deregister":
                await self._deregister(appliance, params)
            else:
                await self._register(appliance, action, params)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not kill the lab; the registration just fails
            log.exception("connector job %s failed for %s", action, appliance.spec.name)
            appliance.connector_result(action, False, failure=msg.REGISTRATION_FAILED_NETWORK)

    async def _register(self, appliance: Appliance, action: str, params: dict[str, Any]) -> None:
        region = region_by_server(params["server"])
        ok, device_id, failure = False, None, msg.REGISTRATION_FAILED_NETWORK
        try:
            async with self._session(appliance) as session:
                await self._enroll(session, appliance)
                body = {"device": self._device(appliance)}
                if action == "register":
                    body["token"] = params["token"]
                else:
                    body.update({k: params.get(k) for k in ("token", "device_id", "smart_account")})
                status, reply = await self._post(session, region.sse_api, f"/connector/v1/{action}", body)
            if status in (200, 201):
                ok, device_id = True, reply.get("device_id")
            else:
                failure = msg.REGISTRATION_FAILED_TOKEN
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.info("%s: %s to %s failed: %s", appliance.spec.name, action, region.sse_api, type(exc).__name__)
        await self.clock.sleep(SETTLE_SIM_SECONDS)
        appliance.connector_result(action, ok, device_id=device_id, failure=failure)

    async def _deregister(self, appliance: Appliance, params: dict[str, Any]) -> None:
        region = region_by_server(params["server"])
        try:
            async with self._session(appliance) as session:
                await self._post(session, region.sse_api, "/connector/v1/deregister",
                                 {"device_id": params.get("device_id")},
                                 headers={"Authorization": f"Bearer {appliance.api_token}"})
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            # The appliance forgets its registration either way; SSE keeps a stale record.
            log.info("%s: deregister from %s failed: %s", appliance.spec.name, region.sse_api, type(exc).__name__)
        if not params.get("silent"):
            await self.clock.sleep(SETTLE_SIM_SECONDS)
        appliance.connector_result("deregister", True)

    # ---- protocol steps -----------------------------------------------------------------------
    def _timeout(self) -> float:
        return max(self.clock.real_seconds(STEP_SIM_SECONDS), STEP_MIN_REAL_SECONDS)

    def _session(self, appliance: Appliance) -> aiohttp.ClientSession:
        return lab_session(self.network.resolver, self.network.ssl_context, timeout=self._timeout(),
                           proxy=appliance.lab.proxy, netns=self.network.netns)

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
