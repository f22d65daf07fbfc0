"""The steps' view of the lab: one leased appliance, its drivers, the cloud clients, the control plane.

Everything here reaches the lab over its protocols through the harness drivers (SSH CLI, GUI, SMTP,
SSE admin API, Threat Response API). The simulator control plane is used only through the plugin's
``sim_control`` client, and only where a scenario puts the lab into a state a lab engineer would set up
by hand (a fault, a firewall rule, a release) or as a documented speed-up (resetting one appliance,
letting the simulated clock run through a "wait a few minutes").

Steps never branch on the backend: a method either does the same thing everywhere, or (for the lab
set-ups a real lab needs a person for) says so with a pytest skip naming the manual step.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from harness.appliance import AsyncOSCli, AsyncOSGui, AsyncOSRest, SmtpSender
from harness.cloud import SseAdmin, ThreatResponseClient
from harness.errors import DriverError

T = TypeVar("T")
REGIONS = ("nam", "eu", "apjc")
SERVER_OF_REGION = {"nam": "AMERICAS", "eu": "EUROPE", "apjc": "APJC"}
REGION_OF_SERVER = {v: k for k, v in SERVER_OF_REGION.items()}
SSE_API_FQDN = {"nam": "api-sse.cisco.com", "eu": "api.eu.sse.itd.cisco.com", "apjc": "api.apj.sse.itd.cisco.com"}
SERVER_LABEL = {server: f"{server} ({SSE_API_FQDN[region]})" for region, server in SERVER_OF_REGION.items()}
LEASE_WAIT_S = 900.0  # how long a scenario waits for an appliance (or the lab) other xdist workers hold
LEASE_POLL_S = 0.02
MAX_SHARED_WAIT_S = 5.0  # bound of one real wait standing in for a clock jump on a shared lab
MAX_EVENTS_RUN = 20  # hold(): at most this many lab events are run through before the one look
# Steps that change what every appliance of a shared lab sees: their scenarios lease the whole lab.
LAB_WIDE_STEPS = re.compile(
    r"^(the firewall (drops|rejects|allows) https to|the lab proxy (denies|allows every)|the lab's dns does not "
    r"resolve|a middlebox intercepts tls|threat response is disabled in sse cloud services|an expired "
    r"registration token|after the \w+ deadline .* still)", re.IGNORECASE)


def changes_whole_lab(step_names: Iterable[str]) -> bool:
    """Whether a scenario with these steps changes lab-wide state (xdist workers must not overlap it)."""
    return any(LAB_WIDE_STEPS.match(name.strip()) for name in step_names)


def _unlock(handle: IO[str] | None) -> None:
    if handle is not None:
        with contextlib.suppress(OSError, ValueError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


class SimControl(Protocol):
    """What the steps need from the plugin's control plane client (``sim_control``)."""

    def get(self, path: str, **kwargs: Any) -> Any: ...

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any: ...

    def delete(self, path: str) -> Any: ...


@dataclass(frozen=True)
class Device:
    """One appliance of the testbed, as the steps see it."""

    name: str
    kind: str  # esa | sma | gateway
    hostname: str
    version: str
    model: str
    username: str
    password: str
    connections: Mapping[str, Mapping[str, Any]]

    @property
    def shortname(self) -> str:
        return self.hostname.split(".", 1)[0]

    @property
    def short_version(self) -> str:
        return self.version.split("-", 1)[0]

    @property
    def device_type(self) -> str:
        """How SSE types it (VER-1): ESA / SMA; a content security gateway is an email gateway."""
        return {"sma": "SMA"}.get(self.kind, "ESA")

    @property
    def product(self) -> str:
        """How the appliance names itself in cloud service messages (seed 003 quotes the SMA's)."""
        return "Content Security Management appliance" if self.kind == "sma" else "Email Security appliance"

    def endpoint(self, role: str) -> tuple[str, int]:
        conn = self.connections[role]
        return str(conn["host"]), int(conn["port"])


@dataclass
class Deadlines:
    """Real seconds the harness may wait for what the documents call "a few minutes" (testbed)."""

    cloud_ready: float = 600.0
    registration: float = 600.0
    deregistration: float = 300.0
    mail_tracked: float = 120.0
    poll_interval: float = 5.0

    @classmethod
    def from_testbed(cls, data: Mapping[str, Any] | None) -> Deadlines:
        known = {k: float(v) for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def of(self, name: str) -> float:
        if name not in self.__dataclass_fields__ or name == "poll_interval":
            raise KeyError(f"no deadline {name!r}; the testbed's are cloud_ready, registration, deregistration, "
                           "mail_tracked")
        return float(getattr(self, name))


class TimedOut(AssertionError):
    """A poll reached its deadline; ``last`` is what was observed the last time."""

    def __init__(self, what: str, seconds: float, last: object) -> None:
        super().__init__(f"{what}: not within {seconds:.1f}s")
        self.last = last


def testbed_dict(testbed: Any) -> dict[str, Any]:
    """The plugin's testbed as a plain mapping (a model object, a dict, or a path to the YAML)."""
    import yaml  # local: only needed when the testbed is a path

    if isinstance(testbed, Mapping):
        return dict(testbed)
    for attr in ("raw", "data", "as_dict", "to_dict", "model_dump", "dict"):
        value = getattr(testbed, attr, None)
        if value is None:
            continue
        value = value() if callable(value) else value
        if isinstance(value, Mapping):
            return dict(value)
    if isinstance(testbed, str) or hasattr(testbed, "read_text"):
        from pathlib import Path

        return yaml.safe_load(Path(testbed).read_text(encoding="utf-8"))
    raise TypeError(f"cannot read a testbed from {type(testbed).__name__}")


def devices_of(data: Mapping[str, Any]) -> list[Device]:
    default = ((data.get("testbed") or {}).get("credentials") or {}).get("default") or {}
    out = []
    for name, dev in (data.get("devices") or {}).items():
        creds = ((dev.get("credentials") or {}).get("default") or default)
        out.append(Device(name=name, kind=str(dev.get("kind", "esa")), hostname=str(dev.get("hostname", name)),
                          version=str(dev.get("version", "")), model=str(dev.get("model", "")),
                          username=str(creds.get("username", "admin")), password=str(creds.get("password", "")),
                          connections=dev.get("connections") or {}))
    return out


class LabAccess:
    """Session-wide: drivers per device (SSH sessions are reused across scenarios), clients per region."""

    def __init__(self, testbed: Any, sim_control: SimControl | None = None, lab: Any = None,
                 lease_dir: Path | None = None, worker_index: int = 0) -> None:
        self.harness_lab = lab  # harness.lab.Lab: session resources and run-time secret masking
        self.lease_dir = lease_dir  # pytest-xdist: the lock files shared with the other workers
        self.whole_lab = False  # this worker's scenario holds the whole (shared) lab exclusively
        self.worker_index = worker_index
        self.data = testbed_dict(testbed)
        self.devices = {d.name: d for d in devices_of(self.data)}
        self.sim = sim_control
        self.deadlines = Deadlines.from_testbed(self.data.get("deadlines"))
        network = self.data.get("network") or {}
        self.verify: bool | str = network.get("ca_bundle") or True
        cloud = self.data.get("cloud") or {}
        self.region = str(cloud.get("region", "nam"))
        self.sse_config: Mapping[str, Any] = cloud.get("sse") or {}
        self.ctr_config: Mapping[str, Any] = cloud.get("ctr") or {}
        simulator = (self.data.get("testbed") or {}).get("simulator") or {}
        self.clock_speed = float(simulator.get("clock_speed") or 1.0)
        self._lock = threading.Lock()
        self._cli: dict[str, AsyncOSCli] = {}
        self._gui: dict[str, AsyncOSGui] = {}
        self._rest: dict[str, AsyncOSRest] = {}
        self._sse: dict[str, SseAdmin] = {}
        self._ctr: dict[str, ThreatResponseClient] = {}
        self.leased: set[str] = set()
        # Known state of SSE Cloud Services per region, so a scenario does not re-enable it every time.
        self.tr_enabled: dict[str, bool] = {}
        # Devices whose SSE records may need cleaning (a scenario got a token for them): skipping the
        # SSE round trips for the others keeps the known-state step cheap.
        self.sse_dirty: set[str] = set()
        self.cloud_url: dict[str, str] = {}  # Network > Cloud Service Settings, once found by its labels

    # ---- leasing ------------------------------------------------------------------------------------
    @contextmanager
    def lease(self, kind: str = "esa", lab_wide: bool = False) -> Iterator[Device]:
        """One device of ``kind`` for one scenario (the first free one).

        Within one process a set of leased names suffices. With pytest-xdist the workers share one lab
        (``lease_dir`` set), so a lease is also an exclusive ``flock`` on ``<lease_dir>/<device>.lock``,
        held for the scenario: two workers never drive the same appliance. Scenarios that change what
        every appliance sees (firewall, proxy, DNS, SSE Cloud Services, a long clock jump) pass
        ``lab_wide``: they hold ``lab.lock`` exclusively, every other scenario holds it shared.
        """
        lab_lock = self._lock_lab(lab_wide) if self.lease_dir is not None else None
        try:
            device, device_lock = self._take_device(kind)
        except BaseException:
            _unlock(lab_lock)
            raise
        self.whole_lab = lab_wide and lab_lock is not None
        try:
            yield device
        finally:
            self.whole_lab = False
            with self._lock:
                self.leased.discard(device.name)
            _unlock(device_lock)
            _unlock(lab_lock)

    def _candidates(self, kind: str) -> list[Device]:
        of_kind = [d for d in self.devices.values() if d.kind == kind]
        if not of_kind:
            raise LookupError(f"the testbed has no {kind} device (devices: "
                              f"{', '.join(f'{d.name}={d.kind}' for d in self.devices.values())})")
        # Each xdist worker starts its search at a different device, so workers seldom hand an appliance
        # over (a handover costs the next holder a clean-up of the appliance's SSE records).
        shift = self.worker_index % len(of_kind)
        return of_kind[shift:] + of_kind[:shift]

    def _take_device(self, kind: str) -> tuple[Device, IO[str] | None]:
        candidates = self._candidates(kind)
        end = time.monotonic() + LEASE_WAIT_S
        while True:
            with self._lock:
                for device in candidates:
                    if device.name in self.leased:
                        continue
                    handle = self._try_lock_device(device) if self.lease_dir is not None else None
                    if self.lease_dir is not None and handle is None:
                        continue  # another worker drives it
                    self.leased.add(device.name)
                    return device, handle
            if self.lease_dir is None:  # one process: nobody will release a device while we wait
                raise LookupError(f"the testbed has no free {kind} device (devices: "
                                  f"{', '.join(f'{d.name}={d.kind}' for d in self.devices.values())})")
            if time.monotonic() > end:
                raise LookupError(f"no {kind} device became free within {LEASE_WAIT_S:.0f} s (the other xdist "
                                  f"workers hold them; locks in {self.lease_dir})")
            threading.Event().wait(LEASE_POLL_S)  # poll to the deadline: flock has no timeout of its own

    def _try_lock_device(self, device: Device) -> IO[str] | None:
        assert self.lease_dir is not None
        handle = (self.lease_dir / f"{device.name}.lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        handle.seek(0)
        previous = handle.read().strip()
        me = f"pid {os.getpid()} access {id(self):x}"  # whose memory of the device's state is current
        if previous and previous != me:
            # Another worker drove it last: what this process remembers about its SSE records is stale.
            self.sse_dirty.add(device.name)
        handle.seek(0)
        handle.truncate()
        handle.write(me)
        handle.flush()
        return handle

    def _lock_lab(self, exclusive: bool) -> IO[str]:
        assert self.lease_dir is not None
        handle = (self.lease_dir / "lab.lock").open("a+", encoding="utf-8")
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        end = time.monotonic() + LEASE_WAIT_S
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() > end:
                    handle.close()
                    raise LookupError(f"the lab stayed busy for {LEASE_WAIT_S:.0f} s (another xdist worker ran "
                                      f"a scenario that changes the whole lab; lock {handle.name})") from None
                threading.Event().wait(LEASE_POLL_S)

    # ---- drivers ------------------------------------------------------------------------------------
    def mask(self, *secrets: str | None) -> None:
        """Run-time secrets (tokens, client secrets) never reach a report, a log or the terminal."""
        if self.harness_lab is not None:
            self.harness_lab.mask(*secrets)

    def cli(self, device: Device) -> AsyncOSCli:
        if device.name not in self._cli:
            host, port = device.endpoint("cli")
            self._cli[device.name] = AsyncOSCli(host, port, device.username, device.password, name=device.name,
                                                timeout=30.0, connect_timeout=10.0)
        return self._cli[device.name]

    def gui(self, device: Device) -> AsyncOSGui:
        if device.name not in self._gui:
            host, port = device.endpoint("gui")
            self._gui[device.name] = AsyncOSGui(f"https://{host}:{port}/", device.username, device.password,
                                                name=device.name, verify=self.verify, timeout=(5.0, 30.0))
        return self._gui[device.name]

    def rest(self, device: Device) -> AsyncOSRest:
        if device.name not in self._rest:
            host, port = device.endpoint("api")
            self._rest[device.name] = AsyncOSRest(f"https://{host}:{port}", device.username, device.password,
                                                  kind=device.kind, name=device.name, verify=self.verify)
        return self._rest[device.name]

    def smtp(self, device: Device) -> SmtpSender:
        host, port = device.endpoint("smtp")
        return SmtpSender(host, port, name=device.name, timeout=30.0)

    def sse(self, region: str | None = None) -> SseAdmin:
        region = region or self.region
        if region not in self._sse:
            conf = self.sse_config.get(region)
            if not conf or "admin_url" not in conf:
                raise LookupError(f"the testbed has no SSE admin API for region {region!r} (cloud.sse.{region})")
            self._sse[region] = SseAdmin(str(conf["admin_url"]), str(conf.get("api_key", "")), region=region,
                                         verify=self.verify, timeout=(5.0, 30.0))
        return self._sse[region]

    def ctr(self, region: str | None = None) -> ThreatResponseClient:
        region = region or self.region
        if region not in self._ctr:
            conf = self.ctr_config.get(region)
            if not conf:
                raise LookupError(f"the testbed has no Threat Response client for region {region!r} (cloud.ctr)")
            self._ctr[region] = ThreatResponseClient.from_config(region, conf, verify=self.verify,
                                                                 timeout=(5.0, 30.0))
        return self._ctr[region]

    def ctr_with(self, region: str, client_id: str, client_secret: str) -> ThreatResponseClient:
        """A client with other credentials (a ribbon client), same region URLs as the testbed's."""
        conf = dict(self.ctr_config.get(region) or {})
        conf.update(client_id=client_id, client_secret=client_secret)
        return ThreatResponseClient.from_config(region, conf, verify=self.verify, timeout=(5.0, 30.0))

    def close(self) -> None:
        for group in (self._cli, self._gui, self._rest, self._sse, self._ctr):
            for driver in group.values():
                with contextlib.suppress(DriverError, OSError, RuntimeError):
                    driver.close()  # closing at session end: nothing left to report to
            group.clear()

    # ---- control plane (simulators only) ------------------------------------------------------------
    @property
    def has_control(self) -> bool:
        return self.sim is not None

    def control(self, method: str, path: str, body: Any = None) -> Any:
        if self.sim is None:
            raise LookupError("no simulator control plane on this testbed")
        if method == "GET":
            return self.sim.get(path)
        if method == "DELETE":
            return self.sim.delete(path)
        return self.sim.post(path, json=body) if body is not None else self.sim.post(path)

    @property
    def clock_shared(self) -> bool:
        """Whether other xdist workers' scenarios run on this lab's clock right now.

        Jumping a shared clock would expire their tokens and time out their in-flight exchanges (the
        simulators count timeouts in simulated time), so then the harness lets the clock run at its
        own speed instead; a scenario holding the whole lab may still jump it.
        """
        return self.lease_dir is not None and self.sim is not None and not self.whole_lab

    def advance_clock(self, sim_seconds: float) -> None:
        """Let simulated time pass (a speed-up of a documented wait; the state is the same as waiting)."""
        if self.sim is None or sim_seconds <= 0:
            return
        if self.clock_shared:  # wait the real equivalent instead (at 600x, "a few minutes" is 0.3 s)
            threading.Event().wait(min(sim_seconds / max(self.clock_speed, 1.0), MAX_SHARED_WAIT_S))
            return
        self.control("POST", "/_sim/clock", {"advance": float(sim_seconds)})

    # ---- polling ------------------------------------------------------------------------------------
    def next_event(self) -> dict[str, Any] | None:
        """On a simulator: run lab time to the next pending event of the leased appliance (of any owner if
        none or several are leased). The lab answers once the work the event triggers is done, so the
        next read shows it; ``fired`` is None when nothing is pending. None on real gear."""
        if self.sim is None:
            return None
        owner = next(iter(self.leased)) if len(self.leased) == 1 else None
        body: dict[str, Any] = {"advance_to_next": True}
        if owner is not None:
            body["owner"] = owner
        return self.control("POST", "/_sim/clock", body)  # type: ignore[no-any-return]

    def poll(self, deadline: str, probe: Callable[[], T], done: Callable[[T], bool], what: str,
             sim_step: float = 60.0, settle: float = 0.0) -> T:
        """Call ``probe`` until ``done(result)``, within the testbed's ``deadline``.

        No fixed sleeps: each wait is the testbed's poll interval, bounded by the deadline. On a
        simulator each round first runs lab time to the appliance's next pending event (a documented
        "after a few minutes" is one jump); only when nothing is pending in lab time (real work under
        way) does a round wait the poll interval. ``sim_step`` and ``settle`` are kept for callers and
        unused: the events, not fixed steps, say how far lab time moves.
        """
        seconds = self.deadlines.of(deadline)
        interval = max(0.01, self.deadlines.poll_interval)
        end = time.monotonic() + seconds
        last = probe()
        while not done(last):
            left = end - time.monotonic()
            if left <= 0:
                raise TimedOut(what, seconds, last)
            jumped = self.next_event()
            if not jumped or jumped.get("fired") is None:
                threading.Event().wait(min(interval, left))  # bounded by the deadline, never a fixed sleep
            last = probe()
        return last

    def hold(self, deadline: str, probe: Callable[[], T], holds: Callable[[T], bool]) -> tuple[bool, T]:
        """Check that ``holds(probe())`` stays true for the whole deadline ("still does not ...").

        On a simulator lab time runs through every pending event of the appliance first (whatever would
        happen "after a few minutes" has happened), so the check needs one look; elsewhere it polls until
        the deadline, failing at the first lapse.
        """
        seconds = self.deadlines.of(deadline)
        if self.sim is not None:
            for _ in range(MAX_EVENTS_RUN):
                if (self.next_event() or {}).get("fired") is None:
                    break
            last = probe()
            return holds(last), last
        end = time.monotonic() + seconds
        while True:
            last = probe()
            if not holds(last):
                return False, last
            left = end - time.monotonic()
            if left <= 0:
                return True, last
            threading.Event().wait(min(self.deadlines.poll_interval, left))


@dataclass
class CloudState:
    """Network > Cloud Service Settings as the GUI shows it."""

    enabled: str  # the "Threat Response:" row ("Enabled" / "Disabled")
    server: str  # the "Threat Response Server:" row
    status: str  # the "Status:" row, "" when the token field is shown instead
    token_field: bool  # a Registration Token field and a Register button
    deregister_button: bool
    text: str = field(default="", repr=False)

    @property
    def registered(self) -> bool:
        return "successfully registered" in self.status

    @property
    def failed(self) -> bool:
        return "registration failed" in self.status.lower()

    @property
    def in_progress(self) -> bool:
        return "in progress" in self.status

    def describe(self) -> str:
        parts = [f"Threat Response: {self.enabled}", f"Server: {self.server}"]
        parts.append(f"Status: {self.status or '(none)'}")
        parts.append("Registration Token field shown" if self.token_field else "no Registration Token field")
        if self.deregister_button:
            parts.append("Deregister button shown")
        return "; ".join(parts)
