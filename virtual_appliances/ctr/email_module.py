"""What the email module instances (Email Security Appliance, SMA Email) do for enrich and response.

Each instance reads its registered appliance's message tracking for observe (VER-5) and sends remediation
to it for response (REM-2). A module instance answers only in the region where it is configured: the
EU organisation has no module unless one was added there (TS-2, wrong cloud).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..sse import Device
from .appliance_client import ApplianceClient, ApplianceError, tracking_filter, tracking_window
from .modules import REMEDIATION_OBSERVABLES, ModuleInstance, ModuleKind
from .observables import Observable
from .sightings import message_sighting

if TYPE_CHECKING:
    from .cloud import CTRCloud

# REM-2: action id -> (title, the appliance's remediation action, description)
ACTIONS: dict[str, tuple[str, str, str]] = {
    "email-remediation-delete": ("Delete", "delete", "Delete the message from the recipients' mailboxes"),
    "email-remediation-forward": ("Forward", "forward", "Forward the message to the remediation forward address"),
    "email-remediation-forward-and-delete": (
        "Forward and Delete", "forward_and_delete",
        "Forward the message to the remediation forward address, then delete it from the recipients' mailboxes"),
}


def error_entry(instance: ModuleInstance, code: str, message: str) -> dict[str, Any]:
    """An ErrorMessage of the enrich/response envelopes."""
    return {"module": instance.name, "module_instance_id": instance.id, "module_type_id": instance.kind.id,
            "code": code, "message": message, "type": "fatal"}


class EmailModules:
    def __init__(self, ctr: CTRCloud, region: str) -> None:
        self.ctr = ctr
        self.region = region
        self.client = ApplianceClient(ctr.ca.client_context, ctr.reqlog, f"ctr/{region}/appliance",
                                      timeout=lambda: ctr.region_state(region).faults.appliance_timeout_s)

    def instances(self, wanted: Callable[[ModuleKind], bool]) -> list[ModuleInstance]:
        state = self.ctr.region_state(self.region)
        return [m for m in state.modules.values() if m.enabled and wanted(m.kind)]

    def device_choices(self, kind: ModuleKind) -> list[Device]:
        """TS-1: only devices of a tenant with Threat Response enabled, of the module's device type."""
        if not self.ctr.sse.tenant(self.region).threat_response_enabled:
            return []
        types = {"ESA", "GATEWAY"} if kind.device_type == "ESA" else {kind.device_type}
        return [d for d in self.ctr.sse.devices(self.region) if d.type in types]

    def device(self, instance: ModuleInstance) -> Device:
        if not self.ctr.sse.tenant(self.region).threat_response_enabled:
            raise ApplianceError("sse-disabled", "Cisco Threat Response is not enabled in Security Services "
                                                 "Exchange (Cloud Services)")
        for device in self.ctr.sse.devices(self.region):
            if device.id == instance.device_id:
                return device
        raise ApplianceError("device-not-registered",
                             f"The device {instance.device_id} is no longer registered in Security Services Exchange")

    # ---- observe ----------------------------------------------------------------------------------
    async def observe(self, observables: list[Observable]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        instances = self.instances(lambda kind: kind.observe)
        results = await asyncio.gather(*(self._observe_one(i, observables) for i in instances))
        data = [entry for entry, _ in results if entry is not None]
        errors = [err for _, err in results if err is not None]
        return data, errors

    async def _observe_one(self, instance: ModuleInstance, observables: list[Observable]
                           ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        queries = [(obs, f) for obs in observables if (f := tracking_filter(obs)) is not None]
        if not queries:
            return None, None
        now = self.ctr.clock.now()
        window = tracking_window(now, instance.timeframe_days)
        try:
            device = self.device(instance)
            found = await asyncio.gather(*(
                self.client.search_messages(device, instance.kind.api_prefix, window, f) for _, f in queries))
        except ApplianceError as exc:
            return None, error_entry(instance, exc.code, exc.message)
        docs = [message_sighting(attrs, obs, source=instance.kind.title, origin=instance.name,
                                 device_id=device.id, now=now)
                for (obs, _), messages in zip(queries, found, strict=True) for attrs in messages]
        bundle = {"sightings": {"count": len(docs), "docs": docs}} if docs else {}
        return self._envelope(instance, bundle), None

    async def health(self, instance: ModuleInstance) -> dict[str, Any]:
        """ok when the registered appliance answers a one-minute message tracking query."""
        try:
            device = self.device(instance)
            if instance.kind.observe or instance.kind.respond:
                window = tracking_window(self.ctr.clock.now(), 0)
                await self.client.search_messages(device, instance.kind.api_prefix, window, {})
            status = "ok"
        except ApplianceError:
            status = "error"
        return self._envelope(instance, {"status": status})

    # ---- response ---------------------------------------------------------------------------------
    def actions(self, observables: list[Observable]) -> list[dict[str, Any]]:
        actions = []
        for instance in self.instances(lambda kind: kind.respond):
            for obs in observables:
                if obs["type"] not in REMEDIATION_OBSERVABLES:
                    continue
                query = urlencode({"observable_type": obs["type"], "observable_value": obs["value"]})
                for action_id, (title, _, description) in ACTIONS.items():
                    actions.append({
                        "id": action_id, "title": title, "description": description,
                        "module": instance.name, "module_type_id": instance.kind.id,
                        "module_instance_id": instance.id, "categories": [instance.kind.title, "Remediation"],
                        "url": f"/iroh/iroh-response/respond/trigger/{instance.id}/{action_id}?{query}",
                    })
        return actions

    async def trigger(self, instance: ModuleInstance, action_id: str, obs: Observable) -> list[dict[str, Any]]:
        """Perform the action on the appliance; returns the errors (none: success)."""
        _, action, _ = ACTIONS[action_id]
        if action != "delete" and not instance.forward_address:
            return [error_entry(instance, "missing-forward-address",
                                f"Configure the Remediation Forward Address of the module {instance.name!r}")]
        try:
            device = self.device(instance)
            mids = await self._mids(instance, device, obs)
            if not mids:
                return [error_entry(instance, "message-not-found",
                                    f"No tracked message matches {obs['type']} {obs['value']!r}")]
            reply = await self.client.remediate(device, instance.kind.api_prefix, mids, action,
                                                instance.forward_address if action != "delete" else None)
        except ApplianceError as exc:
            return [error_entry(instance, exc.code, exc.message)]
        done = (reply.get("data") or {}).get("mids") if isinstance(reply.get("data"), dict) else None
        if isinstance(done, list) and not done:
            return [error_entry(instance, "message-not-found", "The appliance remediated no message")]
        return []

    async def _mids(self, instance: ModuleInstance, device: Device, obs: Observable) -> list[int]:
        if obs["type"] == "cisco_mid":
            return [int(obs["value"])] if obs["value"].strip().isdigit() else []
        query = tracking_filter(obs)
        if query is None:
            return []
        window = tracking_window(self.ctr.clock.now(), instance.timeframe_days)
        found = await self.client.search_messages(device, instance.kind.api_prefix, window, query)
        mids: list[int] = []
        for attrs in found:
            values = attrs.get("mid")
            for mid in values if isinstance(values, list) else [values]:
                if isinstance(mid, int) and mid not in mids:
                    mids.append(mid)
        return mids

    @staticmethod
    def _envelope(instance: ModuleInstance, data: dict[str, Any]) -> dict[str, Any]:
        return {"module": instance.name, "module_instance_id": instance.id, "module_type_id": instance.kind.id,
                "data": data}
