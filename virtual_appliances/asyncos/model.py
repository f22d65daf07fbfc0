"""The appliance's cloud service settings as a state machine.

Configuration changes are staged in ``pending`` and take effect only on ``commit`` (ENA-5, TS-3);
registering, deregistering and reregistering need no commit (REG-3). Time-driven transitions
("the Cisco Cloud Service is busy", "after a few minutes a Registration Token field appears") are
computed from timestamps on the lab's simulated clock, so advancing the clock moves them.

Every string the appliance shows to a user lives in ``messages.py``.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ..common.clock import SimClock
from ..common.regions import REGIONS, Region, region_by_server
from . import messages as msg
from .releases import Release, parse_version, release_for
from .tracking import MessageTracking

log = logging.getLogger("virtual_appliances.asyncos")

BUSY_SECONDS = 180  # "after a few minutes" the token field appears (ENA-4)
CONNECTOR_VERSION = "1.3.34"


class Kind(StrEnum):
    ESA = "esa"
    SMA = "sma"
    GATEWAY = "gateway"


class RegState(StrEnum):
    DISABLED = "disabled"  # Threat Response / cloud services not enabled (committed view)
    BUSY = "busy"  # enabled and committed, the cloud service is starting
    AWAITING_TOKEN = "awaiting_token"  # Registration Token field and Register button shown
    IN_PROGRESS = "in_progress"  # token submitted, connector running
    REGISTERED = "registered"
    FAILED = "failed"  # last registration failed; the token field is shown again
    DEREGISTERING = "deregistering"


class ApplianceError(Exception):
    """A request the appliance refuses; ``str(exc)`` is what it tells the user."""


@dataclass
class ApplianceSpec:
    name: str
    hostname: str
    kind: Kind = Kind.ESA
    model: str = "C100V"
    version: str = "13.0.0-392"
    serial: str = ""
    # Content security gateway variant (ENA-8): "securex" or "cisco-cloud"
    gateway_variant: str = "securex"

    def __post_init__(self) -> None:
        self.kind = Kind(self.kind)
        if not self.serial:
            self.serial = uuid.uuid4().hex[:12].upper() + "-" + uuid.uuid4().hex[:12].upper()

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return parse_version(self.version)

    @property
    def short_version(self) -> str:
        return self.version.split("-")[0]

    @property
    def release(self) -> Release:
        """The release line's record; read on every use, as the control plane may change the version."""
        return release_for(self.kind, self.version, self.gateway_variant)

    @property
    def device_type(self) -> str:
        return {Kind.ESA: "ESA", Kind.SMA: "SMA", Kind.GATEWAY: "ESA"}[self.kind]


@dataclass
class CloudConfig:
    enabled: bool = False
    server: str | None = None  # AMERICAS | EUROPE | APJC; None = "No Server is set."
    remediation_profile: bool = False  # System Administration > Account Settings (REM-1)


@dataclass
class Registration:
    state: RegState
    server: str | None = None  # the server the registration is bound to
    device_id: str | None = None
    failure: str | None = None  # the message shown for a failed registration
    since: datetime | None = None


@dataclass
class Faults:
    """Faults injected through the control plane (``/_sim/appliances/<name>/faults``)."""

    drop_ssh_after: int | None = None  # drop the next SSH session after N commands (0: at login)
    slow_reply_ms: int = 0  # delay every CLI and HTTP reply
    refuse_commit: bool = False  # commit fails with msg.COMMIT_REFUSED
    http_status: int | None = None  # GUI and REST answer with this status

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]


@dataclass
class LabSettings:
    """Properties of the appliance a lab engineer sets outside the documented procedures."""

    smart_licensing: bool = True  # PRE-6
    cssm_registered: bool = True  # PRE-6
    smart_account: str = "ctrlab-smart-account"
    proxy: str | None = None  # upstream HTTPS proxy URL (PRE-4)
    cluster_name: str | None = None  # set when the appliance is a cluster member (ENA-7, REG-7)


Connector = Callable[["Appliance", str, dict], None]
"""Starts a background connector job: (appliance, action, params); action is register/deregister/
reregister. The connector reports back through ``connector_result``."""


class Appliance:
    def __init__(self, spec: ApplianceSpec, clock: SimClock, password: str) -> None:
        self.spec = spec
        self.clock = clock
        self.password = password
        self.api_token = uuid.uuid4().hex + uuid.uuid4().hex  # what the cloud uses to call back
        self.connector: Connector | None = None
        self.tracking = MessageTracking(clock, spec.hostname)
        self.faults = Faults()
        self.lab = LabSettings()
        self._factory_reset()

    # ---- life cycle ---------------------------------------------------------------------------
    def _factory_reset(self) -> None:
        self.committed = CloudConfig()
        self.pending: CloudConfig | None = None
        self.registration = Registration(RegState.DISABLED)
        self._enabled_at: datetime | None = None
        self.mode = "standalone"  # standalone | machine | cluster | group
        self.last_commit: datetime | None = None

    def reset(self) -> None:
        self._factory_reset()
        self.tracking.clear()
        self.faults.clear()
        self.lab = LabSettings()

    # ---- configuration (staged) ---------------------------------------------------------------
    @property
    def staged(self) -> CloudConfig:
        """The configuration as it will be after commit."""
        return self.pending if self.pending is not None else self.committed

    def _stage(self) -> CloudConfig:
        if self.pending is None:
            self.pending = copy.deepcopy(self.committed)
        return self.pending

    @property
    def has_pending(self) -> bool:
        return self.pending is not None and self.pending != self.committed

    def set_enabled(self, enabled: bool) -> None:
        self._stage().enabled = enabled

    def set_server(self, server: str) -> Region:
        try:
            region = region_by_server(server)
        except KeyError:
            raise ApplianceError(msg.SERVER_NOT_AVAILABLE) from None
        if region.server_name not in self.server_names():
            raise ApplianceError(msg.SERVER_NOT_AVAILABLE)
        self._stage().server = region.server_name
        return region

    def set_remediation_profile(self, enabled: bool) -> None:
        self._stage().remediation_profile = enabled

    def server_names(self) -> list[str]:
        """The servers this appliance offers, default first (ENA-3)."""
        return list(self.spec.release.servers)

    def server_label(self, server: str | None) -> str:
        return REGIONS[region_by_server(server).key].server_label if server else msg.NO_SERVER

    def commit(self, comment: str = "") -> datetime:
        if self.faults.refuse_commit:
            log.info("%s: commit refused (fault refuse_commit)", self.spec.name)
            raise ApplianceError(msg.COMMIT_REFUSED)
        if not self.has_pending:
            self.pending = None
            raise ApplianceError(msg.NOTHING_TO_COMMIT)
        assert self.pending is not None
        before, after = self.committed, self.pending
        if after.enabled and after.server is None:
            after.server = self.server_names()[0]  # the documented default (ENA-3)
        self.committed, self.pending = after, None
        self.last_commit = self.clock.now()
        self.last_commit_comment = comment
        log.info("%s: committed (enabled %s, server %s)", self.spec.name, after.enabled, after.server)
        self._apply(before, after)
        return self.last_commit

    def clear(self) -> bool:
        had = self.has_pending
        self.pending = None
        return had

    def _apply(self, before: CloudConfig, after: CloudConfig) -> None:
        if after.enabled and not before.enabled:
            self._enabled_at = self.clock.now()
            self.registration = Registration(RegState.BUSY, since=self._enabled_at)
        elif before.enabled and not after.enabled:
            reg = self.registration
            if reg.state is RegState.REGISTERED and self.connector:  # disabling leaves the cloud too
                self.connector(self, "deregister", {"server": reg.server, "device_id": reg.device_id, "silent": True})
            self.registration = Registration(RegState.DISABLED)
            self._enabled_at = None
        # A server change while registered leaves the registration bound to the old server:
        # switching regions needs deregistration first and the whole procedure again (REG-6).

    # ---- registration (no commit needed) ------------------------------------------------------
    @property
    def state(self) -> RegState:
        reg = self.registration
        if reg.state is RegState.BUSY:
            assert self._enabled_at is not None
            if self.clock.now() >= self._enabled_at + timedelta(seconds=BUSY_SECONDS):
                self.registration = Registration(RegState.AWAITING_TOKEN, since=self.clock.now())
        return self.registration.state

    @property
    def accepts_token(self) -> bool:
        """True while the Registration Token field and Register button are shown (ENA-4)."""
        return self.state in (RegState.AWAITING_TOKEN, RegState.FAILED)

    def status_message(self) -> str:
        state = self.state
        product = self.spec.release.product_name
        if state is RegState.DISABLED:
            return msg.STATUS_DISABLED
        if state is RegState.BUSY:
            return msg.STATUS_BUSY
        if state is RegState.IN_PROGRESS:
            return msg.STATUS_IN_PROGRESS
        if state is RegState.REGISTERED:
            return msg.registered(product)
        if state is RegState.DEREGISTERING:
            return msg.deregistering(product)
        if state is RegState.FAILED:
            return self.registration.failure or msg.REGISTRATION_FAILED_TOKEN
        return msg.STATUS_AWAITING_TOKEN

    def register(self, token: str) -> None:
        token = token.strip()
        if self.mode == "cluster" or self.mode == "group":
            raise ApplianceError(msg.MACHINE_MODE_ONLY)
        if not self.accepts_token:
            raise ApplianceError(msg.NOT_READY_FOR_TOKEN)
        if not token:
            raise ApplianceError(msg.EMPTY_TOKEN)
        server = self.committed.server or "AMERICAS"
        self.registration = Registration(RegState.IN_PROGRESS, server=server, since=self.clock.now())
        self._start("register", {"token": token, "server": server})

    def deregister(self) -> None:
        if self.state is not RegState.REGISTERED:
            raise ApplianceError(msg.NOT_REGISTERED)
        reg = self.registration
        self.registration = Registration(
            RegState.DEREGISTERING, server=reg.server, device_id=reg.device_id, since=self.clock.now()
        )
        self._start("deregister", {"server": reg.server, "device_id": reg.device_id})

    def reregister(self, server: str | None = None, token: str | None = None) -> None:
        """REG-9: needs smart licensing and CSSM registration (PRE-6)."""
        if not (self.lab.smart_licensing and self.lab.cssm_registered):
            raise ApplianceError(msg.REREGISTER_NEEDS_SMART_LICENSING)
        if self.state is RegState.DISABLED:
            raise ApplianceError(msg.NOT_READY_FOR_TOKEN)
        if server and self.set_server(server).server_name != self.committed.server:
            self.commit("reregistration: server")
        target = self.committed.server or "AMERICAS"
        old = self.registration
        self.registration = Registration(RegState.IN_PROGRESS, server=target, since=self.clock.now())
        self._start("reregister", {
            "server": target, "token": token or None, "device_id": old.device_id,
            "smart_account": self.lab.smart_account,
        })

    def _start(self, action: str, params: dict) -> None:
        if self.connector is None:  # no network configured: nothing will ever answer
            return
        self.connector(self, action, params)

    def connector_result(self, action: str, ok: bool, device_id: str | None = None,
                         failure: str | None = None) -> None:
        """Called by the connector when a job ends."""
        now = self.clock.now()
        reg = self.registration
        if action in ("register", "reregister"):
            if reg.state is not RegState.IN_PROGRESS:
                return  # superseded (disabled or reset meanwhile)
            if ok:
                self.registration = Registration(RegState.REGISTERED, server=reg.server,
                                                 device_id=device_id, since=now)
            else:
                self.registration = Registration(RegState.FAILED, server=None,
                                                 failure=failure or msg.REGISTRATION_FAILED_TOKEN, since=now)
        elif action == "deregister" and reg.state is RegState.DEREGISTERING:
            self.registration = Registration(RegState.AWAITING_TOKEN, since=now)
        else:
            return
        log.info("%s: %s %s -> %s", self.spec.name, action, "succeeded" if ok else f"failed ({failure})",
                 self.registration.state)

    # ---- cluster ------------------------------------------------------------------------------
    def prompt(self) -> str:
        """The CLI prompt for the current mode (reference/asyncos.md 1.1)."""
        if self.mode == "machine":
            return f"(Machine {self.spec.hostname})> "
        if self.mode == "cluster":
            return f"(Cluster {self.lab.cluster_name})> "
        if self.mode == "group":
            return "(Group Main_Group)> "
        return f"{self.spec.hostname}> "

    def join_cluster(self, cluster_name: str) -> None:
        """REG-7: an appliance registered standalone must be deregistered before it joins."""
        if self.state in (RegState.REGISTERED, RegState.IN_PROGRESS, RegState.DEREGISTERING):
            raise ApplianceError(msg.DEREGISTER_BEFORE_CLUSTER)
        self.lab.cluster_name = cluster_name
        self.mode = "cluster"

    def set_mode(self, mode: str) -> None:
        if self.lab.cluster_name is None:
            raise ApplianceError(msg.not_clustered("clustermode"))
        if mode not in ("machine", "cluster", "group"):
            raise ApplianceError(msg.INVALID_MODE)
        self.mode = mode

    def snapshot(self) -> dict:
        """A JSON view for the control plane."""
        return {
            "name": self.spec.name,
            "hostname": self.spec.hostname,
            "kind": self.spec.kind.value,
            "model": self.spec.model,
            "version": self.spec.version,
            "release": self.spec.release.key,
            "era": self.spec.release.era,
            "state": self.state.value,
            "status": self.status_message(),
            "committed": self.committed.__dict__.copy(),
            "pending": self.pending.__dict__.copy() if self.has_pending and self.pending else None,
            "registration": {"server": self.registration.server, "device_id": self.registration.device_id},
            "mode": self.mode,
            "lab": self.lab.__dict__.copy(),
            "faults": self.faults.__dict__.copy(),
            "messages_tracked": len(self.tracking),
        }


@dataclass
class Fleet:
    appliances: dict[str, Appliance] = field(default_factory=dict)

    def add(self, appliance: Appliance) -> None:
        self.appliances[appliance.spec.name] = appliance

    def __getitem__(self, name: str) -> Appliance:
        return self.appliances[name]

    def __iter__(self):
        return iter(self.appliances.values())

    def __len__(self) -> int:
        return len(self.appliances)
