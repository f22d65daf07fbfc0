"""Run the whole simulated lab in one process and describe it in a testbed file.

    python -m virtual_appliances.lab --appliances 3 --testbed-out tb.yaml

starts the appliances (SSH, HTTPS GUI, HTTPS REST API, SMTP each), SSE and EST, Threat Response per
region, and the netlab (DNS, CA, per-FQDN HTTPS, firewall, proxy), writes the testbed once everything
listens, and runs in the foreground until SIGINT/SIGTERM or ``POST /_sim/shutdown``. ``ctrlab sim up``
runs this module. Lab time moves with the wall clock plus the jumps the harness asks for
(``common/clock.py``); ``--integrated`` starts every appliance enabled, registered and added as a module.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncssh
import yaml
from aiohttp import web

from . import __version__
from .asyncos.connector import CloudNetwork, Connector
from .asyncos.control import control_app as appliance_control_app
from .asyncos.model import BUSY_SECONDS, Appliance, ApplianceSpec, Fleet, Kind, RegState
from .asyncos.rest_api import api_app
from .asyncos.smtp import start_smtp
from .asyncos.ssh_cli import start_ssh_server
from .asyncos.web_gui import gui_app
from .common.clock import SimClock
from .common.pki import LabCA
from .common.redact import Redactor
from .common.regions import EST_FQDN, REGIONS
from .common.reqlog import RequestLog, logging_middleware
from .ctr import CTRCloud
from .ctr.modules import DEVICE_KEY, ESA, SMA_EMAIL, ModuleInstance
from .faults import ActiveFaults
from .lab_control import routes as lab_routes
from .netlab import NetLab
from .netlab.namespaces import available as namespaces_available
from .sse import SSECloud

log = logging.getLogger("virtual_appliances.lab")

HOST = "127.0.0.1"
DEFAULT_MODELS = {Kind.ESA: "C100V", Kind.SMA: "M600V", Kind.GATEWAY: "C100V"}
DEFAULT_SPEED = 1.0  # lab time runs with the wall clock; the harness jumps it (docs/simulators.md)
# Every scope a full ribbon client has (RIB-1) plus what the harness needs to verify devices.
HARNESS_SCOPES = [
    "casebook", "enrich:read", "global-intel:read", "inspect:read", "integration", "profile", "private-intel",
    "response", "registry/user/ribbon", "telemetry:write", "users:read", "orbital", "sse",
]


@dataclass
class LabOptions:
    appliances: int = 1
    kind: str = "esa"
    sma: int = 0  # SMAs added to the fleet besides the ``appliances`` of ``kind``
    gateway: int = 0  # content security gateways added, alternating the two ENA-8 variants
    model: str = "C100V"
    version: str = "13.0.0-392"
    region: str = "nam"
    speed: float = DEFAULT_SPEED
    directory: Path | None = None
    https_port: int | None = None
    netns: bool = False  # namespace mode (root): the appliance reaches the cloud through namespaces
    integrated: bool = False  # every appliance enabled, registered and added as a Threat Response module
    autojump: float = 0.0  # > 0: appliance events fire by themselves after this many idle real seconds


@dataclass
class ApplianceEndpoints:
    appliance: Appliance
    ports: dict[str, int] = field(default_factory=dict)


class Lab:
    """The running lab: owns every server and the shared clock, CA, redactor and request log."""

    def __init__(self, options: LabOptions) -> None:
        self.options = options
        self.own_directory = options.directory is None  # a temporary folder, removed when the lab stops
        self.directory = options.directory or Path(tempfile.mkdtemp(prefix="ctrlab-lab-"))
        self.clock = SimClock(speed=options.speed)
        self.redactor = Redactor()
        self.reqlog = RequestLog(self.redactor)
        self.ca = LabCA(self.directory)
        self.fleet = Fleet()
        self.endpoints: list[ApplianceEndpoints] = []
        self.host_keys: list[str] = []
        # Sent in each appliance's SSH identification line and by /_sim/health: the harness checks both
        # match before treating a device as a simulator (destructive scenarios without --allow-destructive).
        self.lab_id = secrets.token_hex(8)  # written into the testbed: the harness verifies them as on real gear
        self._runners: list[web.AppRunner] = []
        self._stoppers: list[Callable[[], Awaitable[None]]] = []
        self.netlab = NetLab(self.ca, self.reqlog, self.redactor, self.clock, https_port=options.https_port,
                             namespaces=options.netns)
        self.sse = SSECloud(self.clock, self.redactor, self.reqlog, self.ca)
        self.ctr = CTRCloud(self.clock, self.redactor, self.reqlog, self.sse, self.ca)
        self.ctr_clients: dict[str, tuple[str, str]] = {}
        self.control_port = 0
        self.faults = ActiveFaults()
        self.stopping = asyncio.Event()  # set by POST /_sim/shutdown (and SIGINT/SIGTERM in run())
        self.clock.add_source(self._fleet_events)
        self.clock.add_source(self._sse_events)

    # ---- start --------------------------------------------------------------------------------
    async def start(self) -> None:
        for region in REGIONS.values():
            self.netlab.add_site(region.sse_api, self.sse.device_app(region.key))
            self.netlab.add_site(region.sse_admin, self.sse.admin_app(region.key))
            self.netlab.add_site(region.ctr, self.ctr.api_app(region.key))
            self.netlab.add_site(region.private_intel, self.ctr.intel_app(region.key))
        self.netlab.add_site(EST_FQDN, self.sse.est_app())
        await self.netlab.start()
        # In namespace mode the appliance resolves and connects from its namespace, through the firewall one.
        self.connector = Connector(self.clock, CloudNetwork(
            resolver=self.netlab.appliance_resolver, ssl_context=self.ca.client_context(),
            https_port=self.netlab.appliance_https_port, api_host=HOST, netns=self.netlab.appliance_netns),
            dropped=self.netlab.dropped)
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_keys = [_public_line(host_key)]
        gui_tls = self.ca.server_context(HOST, "localhost")
        await asyncio.gather(*(self._start_appliance(spec, host_key, gui_tls) for spec in self.plan()))
        for region in REGIONS:
            self.ctr_clients[region] = self.ctr.create_client(region, HARNESS_SCOPES, name="ctrlab harness")
        await self._start_control()
        if self.options.integrated:
            await self.integrate()
        if self.options.autojump > 0:
            self._autojump = asyncio.get_running_loop().create_task(self.clock.autojump(self.options.autojump))

    def plan(self) -> list[ApplianceSpec]:
        """The fleet: ``appliances`` of the main kind, then the extra SMAs and gateways."""
        opts = self.options
        main = Kind(opts.kind)
        wanted = [(main, i, opts.model if main is Kind.ESA else DEFAULT_MODELS[main]) for i in
                  range(1, opts.appliances + 1)]
        offset = opts.appliances if main is Kind.SMA else 0
        wanted += [(Kind.SMA, offset + i, DEFAULT_MODELS[Kind.SMA]) for i in range(1, opts.sma + 1)]
        offset = opts.appliances if main is Kind.GATEWAY else 0
        wanted += [(Kind.GATEWAY, offset + i, DEFAULT_MODELS[Kind.GATEWAY]) for i in range(1, opts.gateway + 1)]
        return [
            ApplianceSpec(name=f"{kind.value}{i}", hostname=f"{kind.value}{i}.lab.ctrlab.test", kind=kind,
                          model=model, version=opts.version,
                          gateway_variant="securex" if i % 2 else "cisco-cloud")
            for kind, i, model in wanted
        ]

    async def _start_appliance(self, spec: ApplianceSpec, host_key: asyncssh.SSHKey, tls: Any) -> None:
        name = spec.name
        password = secrets.token_urlsafe(12)
        self.redactor.add(password)
        appliance = Appliance(spec, self.clock, password)
        self.redactor.add(appliance.api_token)
        appliance.connector = self.connector
        self.fleet.add(appliance)
        endpoints = ApplianceEndpoints(appliance)
        ssh = await start_ssh_server(appliance, HOST, 0, host_key, server_version=f"ctrlab-sim_{self.lab_id}")

        async def stop_ssh() -> None:
            ssh.close()
            await ssh.wait_closed()

        self._stoppers.append(stop_ssh)
        endpoints.ports["cli"] = ssh.sockets[0].getsockname()[1]
        middleware = [logging_middleware(f"appliance/{name}/gui", self.reqlog)]
        gui = gui_app(appliance, middlewares=middleware)
        identify(gui, f"ctrlab-sim_{self.lab_id}")  # a GUI-only appliance proves it is a simulator here
        endpoints.ports["gui"] = await self._serve(gui, tls)
        middleware = [logging_middleware(f"appliance/{name}/api", self.reqlog)]
        endpoints.ports["api"] = await self._serve(api_app(appliance, self.redactor, middlewares=middleware), tls)
        self.connector.api_ports[name] = endpoints.ports["api"]
        smtp = await start_smtp(appliance, HOST, 0)
        self._stoppers.append(smtp.stop)
        endpoints.ports["smtp"] = smtp.port
        self.endpoints.append(endpoints)

    async def _serve(self, app: web.Application, tls: Any = None, port: int = 0) -> int:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, HOST, port, ssl_context=tls, backlog=128)
        await site.start()
        self._runners.append(runner)
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _start_control(self) -> None:
        app = web.Application(middlewares=[logging_middleware("control", self.reqlog)])
        app.add_routes([*lab_routes(self), web.post("/_sim/reset", self._reset), web.get("/_sim/log", self._log)])
        app.add_subapp("/_sim/appliances", appliance_control_app(self.fleet, reset_hook=self.reset_appliance))
        app.add_subapp("/_sim/sse", self.sse.control_app())
        app.add_subapp("/_sim/ctr", self.ctr.control_app())
        app.add_subapp("/_sim/netlab", self.netlab.control_app())
        self.control_port = await self._serve(app)

    # ---- control plane root -------------------------------------------------------------------
    async def _reset(self, request: web.Request) -> web.Response:
        for appliance in self.fleet:
            await self.connector.cancel(appliance.spec.name)
            appliance.reset()
        self.faults.reset()
        self.sse.reset()
        self.ctr.reset()
        self.netlab.reset()
        # Re-create the harness's clients with the same credentials: the testbed on disk names them.
        self.ctr_clients = {
            r: self.ctr.create_client(r, HARNESS_SCOPES, name="ctrlab harness", client_id=cid, secret=secret)
            for r, (cid, secret) in self.ctr_clients.items()
        }
        self.reqlog.clear()
        return web.json_response({"status": "reset"})

    async def reset_appliance(self, appliance: Appliance) -> dict[str, Any]:
        """One appliance and what it left in the cloud back to a known state (not the whole lab): its
        connector jobs and pending events, its settings and faults, its SSE records in every region and
        the Threat Response module instances that point at them. Lab-wide network settings (firewall,
        DNS, interception, the proxy's deny list) are not attributable to one appliance and stay."""
        name = appliance.spec.name
        jobs = await self.connector.cancel(name)
        events = self.clock.cancel_owner(name)
        appliance.reset()
        self.faults.forget(name)
        devices: list[str] = []
        modules = 0
        for region in REGIONS:
            state = self.sse.region_state(region)
            mine = [d.id for d in state.devices.values()
                    if d.serial == appliance.spec.serial or d.name == appliance.spec.hostname]
            for device_id in mine:
                del state.devices[device_id]
            devices += mine
            ctr = self.ctr.region_state(region)
            stale = [m for m, inst in ctr.modules.items() if inst.device_id in mine]
            for module_id in stale:
                del ctr.modules[module_id]
            modules += len(stale)
        if jobs or events or devices or modules:  # the plain reset is logged by the control plane already
            log.info("%s: reset cancelled %d connector job(s), %d event(s); removed %d SSE record(s), "
                     "%d module(s)", name, jobs, events, len(devices), modules)
        return {"connector_jobs": jobs, "events": events, "sse_devices": len(devices), "ctr_modules": modules}

    def _fleet_events(self, now: Any) -> list[tuple[str, str, Any]]:
        """"After a few minutes" the token field appears (ENA-4): lazy, from the commit's time."""
        events = []
        for a in self.fleet:
            reg = a.registration
            if reg.state is RegState.BUSY and reg.since is not None:
                events.append((a.spec.name, "the cloud service is ready: the Registration Token field appears",
                               reg.since + timedelta(seconds=BUSY_SECONDS)))
        return events

    def _sse_events(self, now: Any) -> list[tuple[str, str, Any]]:
        """Registration tokens expire (REG-1): one event per batch with an unused token left."""
        events = []
        for region in REGIONS:
            state = self.sse.region_state(region)
            for batch in state.batches.values():
                if any(state.tokens[t].used_by is None for t in batch.tokens):
                    events.append((f"sse:{region}", f"the registration tokens of batch {batch.id} expire",
                                   batch.expires))
        return events

    async def _log(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
        except ValueError:
            return web.json_response({"error": "since must be an integer"}, status=400)
        return web.json_response(self.reqlog.entries(since, request.query.get("service")))

    # ---- testbed ------------------------------------------------------------------------------
    def testbed(self) -> dict[str, Any]:
        """The testbed that describes this lab (docs/testbed.md)."""
        speed = self.clock.speed
        devices = {}
        for ep in self.endpoints:
            a = ep.appliance
            devices[a.spec.name] = {
                "kind": a.spec.kind.value,
                "model": a.spec.model,
                "version": a.spec.version,
                "hostname": a.spec.hostname,
                "credentials": {"default": {"username": "admin", "password": a.password}},
                "connections": {
                    "cli": {"protocol": "ssh", "host": HOST, "port": ep.ports["cli"],
                            "host_keys": list(self.host_keys)},
                    "gui": {"protocol": "https", "host": HOST, "port": ep.ports["gui"]},
                    "api": {"protocol": "https", "host": HOST, "port": ep.ports["api"]},
                    "smtp": {"protocol": "smtp", "host": HOST, "port": ep.ports["smtp"]},
                },
            }
        port = self.netlab.https_port
        suffix = "" if port == 443 else f":{port}"
        cloud_sse = {}
        cloud_ctr = {}
        for key, region in REGIONS.items():
            cloud_sse[key] = {"admin_url": f"https://{self.netlab.address_of(region.sse_admin)}{suffix}",
                              "api_key": self.sse.admin_api_key(key)}
            client_id, client_secret = self.ctr_clients[key]
            cloud_ctr[key] = {"base_url": f"https://{self.netlab.address_of(region.ctr)}{suffix}",
                              "intel_url": f"https://{self.netlab.address_of(region.private_intel)}{suffix}",
                              "client_id": client_id, "client_secret": client_secret}
        resolver_host, resolver_port = self.netlab.resolver
        simulator: dict[str, Any] = {"control_url": f"http://{HOST}:{self.control_port}", "version": __version__,
                                     "clock_speed": speed, "proxy_url": self.netlab.proxy_url}
        netns = self.netlab.appliance_netns
        if netns is not None:
            # The appliance's own network, only usable inside its namespace (harness.net runs the check
            # there); ``network`` keeps the loopback resolver the harness may use from here.
            ns_host, ns_port = self.netlab.appliance_resolver
            simulator["appliance_netns"] = netns
            simulator["appliance_network"] = {"resolver": f"{ns_host}:{ns_port}",
                                              "https_port": self.netlab.appliance_https_port}
        return {
            "testbed": {"name": "ctrlab-sim", "simulator": simulator},
            "devices": devices,
            "cloud": {"region": self.options.region, "sse": cloud_sse, "ctr": cloud_ctr},
            "network": {
                "resolver": f"{resolver_host}:{resolver_port}",
                "ca_bundle": str(self.ca.bundle),
                "https_port": port,
                "proxy": None,
                # Every probe crosses loopback to this process, which answers within milliseconds: a drop is
                # told from an answer in a fraction of the 1 s a real network is given.
                "probe_timeout": 0.5,
            },
            # Real seconds the harness may wait. The documents' "few minutes" pass in one clock jump
            # (advance_to_next), so these bound real work only; generous for a loaded machine.
            "deadlines": {
                "cloud_ready": 20.0,
                "registration": 20.0,
                "deregistration": 20.0,
                "mail_tracked": 10.0,
                "poll_interval": 0.05,
            },
        }

    def write_testbed(self, path: Path) -> None:
        # Written atomically, and only once every endpoint listens: its appearance means "ready".
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(yaml.safe_dump(self.testbed(), sort_keys=False))
        os.chmod(tmp, 0o600)  # it holds the lab's passwords and client secrets
        tmp.replace(path)

    # ---- stop ---------------------------------------------------------------------------------
    async def stop(self) -> None:
        try:
            if getattr(self, "_autojump", None) is not None:
                self._autojump.cancel()
            if hasattr(self, "connector"):  # start() may have failed before it existed
                await self.connector.stop()
            for stop in self._stoppers:
                await stop()
            for runner in self._runners:
                await runner.cleanup()
            await self.netlab.stop()
        finally:
            if self.own_directory:
                shutil.rmtree(self.directory, ignore_errors=True)

    # ---- --integrated -------------------------------------------------------------------------
    async def integrate(self) -> None:
        """Every appliance as the documents leave it (ENA, REG, VER-3): Threat Response enabled in every
        region's SSE, the appliance enabled and committed, registered with a token of its region through
        its own connector, a module in Threat Response, and one test mail in its tracking (VER-4)."""
        region = REGIONS[self.options.region]
        for key in REGIONS:
            self.sse.region_state(key).tenant.threat_response_enabled = True
        for appliance in self.fleet:
            appliance.set_enabled(True)
            appliance.set_server(region.server_name)
            appliance.commit("ctrlab sim up --integrated")
        await self._run_events(lambda a: a.state is RegState.BUSY, "the cloud service to be ready")
        for appliance in self.fleet:
            batch = self.sse.region_state(region.key).generate_tokens(1, "1h", self.clock.now())
            self.redactor.add(batch.tokens[0])
            appliance.register(batch.tokens[0])
        await self._run_events(lambda a: a.state is RegState.IN_PROGRESS, "the registration")
        failed = [a.spec.name for a in self.fleet if a.state is not RegState.REGISTERED]
        if failed:
            raise RuntimeError(f"--integrated: {', '.join(failed)} did not register: "
                               f"{self.fleet[failed[0]].status_message()}")
        ctr = self.ctr.region_state(region.key)
        now = self.clock.now().isoformat()
        for appliance in self.fleet:
            kind = SMA_EMAIL if appliance.spec.kind is Kind.SMA else ESA
            module = ModuleInstance(
                id=str(uuid.uuid4()), name=f"{appliance.spec.hostname} {kind.title}", kind=kind,
                org_id=ctr.org_id, user_id="ctrlab", client_id=self.ctr_clients[region.key][0], visibility="org",
                enabled=True, settings={DEVICE_KEY: appliance.registration.device_id, "request_timeframe": 30},
                created_at=now, updated_at=now)
            ctr.modules[module.id] = module
            appliance.tracking.record(sender="ctrlab@lab.ctrlab.test", recipients=["qa@lab.ctrlab.test"],
                                      subject=f"ctrlab test mail ({appliance.spec.release.product_name})",
                                      message_id=f"{uuid.uuid4()}@lab.ctrlab.test", sender_ip=HOST,
                                      attachments=[])
        log.info("--integrated: %d appliance(s) enabled, registered in %s and added as modules",
                 len(self.fleet), region.key)

    async def _run_events(self, waiting: Callable[[Appliance], bool], what: str) -> None:
        """Run the lab clock through each appliance's pending events while ``waiting`` holds."""
        for appliance in self.fleet:
            for _ in range(10):  # a bound: each step is one event of this appliance
                if not waiting(appliance):
                    break
                event, settled = await self.clock.advance_to_next(appliance.spec.name)
                if event is None and not waiting(appliance):
                    break  # its time came by itself between the two looks: lab time moves with the wall clock
                if event is None or not settled:
                    raise RuntimeError(f"--integrated: {appliance.spec.name}: {what} did not happen")


def identify(app: web.Application, server: str) -> None:
    """Every answer of ``app`` names the lab in its Server header (``ctrlab-sim_<lab id>``), as the SSH
    identification line does: how the harness tells this lab's appliances from real gear over the GUI alone."""

    async def stamp(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Server"] = server

    app.on_response_prepare.append(stamp)


def _public_line(key: asyncssh.SSHKey) -> str:
    """An SSH host key as the testbed records it: ``<type> <base64>`` (OpenSSH, no comment)."""
    return " ".join(key.export_public_key("openssh").decode().split()[:2])


async def run(options: LabOptions, testbed_out: Path) -> None:
    started = time.monotonic()
    lab = Lab(options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lab.stopping.set)
    try:
        await lab.start()
        lab.write_testbed(testbed_out)
        print(f"ctrlab lab ready in {time.monotonic() - started:.2f}s: {len(lab.fleet)} appliance(s)"
              f"{', integrated' if options.integrated else ''}, testbed {testbed_out}, control "
              f"http://{HOST}:{lab.control_port}/_sim/health (Ctrl-C or ctrlab sim down stops it)", flush=True)
        await lab.stopping.wait()
    finally:
        await lab.stop()
        with contextlib.suppress(FileNotFoundError):
            testbed_out.unlink()
        print("ctrlab lab stopped", flush=True)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default, unless it has none worth showing (None, a flag's False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or action.default == argparse.SUPPRESS or action.required:
            return action.help or ""
        return super()._get_help_string(action) or ""


def parse_args(argv: list[str] | None = None) -> tuple[LabOptions, Path]:
    parser = argparse.ArgumentParser(prog="ctrlab sim up", description=__doc__.split("\n\n")[0],
                                     formatter_class=HelpFormatter)
    parser.add_argument("--appliances", type=int, default=1, help="how many appliances (1-500)")
    parser.add_argument("--testbed-out", type=Path, required=True,
                        help="where to write the testbed YAML (its folder must exist)")
    parser.add_argument("--kind", choices=[k.value for k in Kind], default="esa", help="the kind of the --appliances")
    parser.add_argument("--sma", type=int, default=0, help="SMAs to add to the fleet")
    parser.add_argument("--gateway", type=int, default=0,
                        help="content security gateways to add (alternating the two ENA-8 variants)")
    parser.add_argument("--model", default="C100V", help="the ESA model the appliances report")
    parser.add_argument("--version", dest="asyncos_version", default="13.0.0-392", help="AsyncOS version")
    parser.add_argument("--region", choices=list(REGIONS), default="nam", help="the testbed's region")
    parser.add_argument("--speed", type=float, default=DEFAULT_SPEED,
                        help="simulated seconds per real second (lab time; network time-outs stay real)")
    parser.add_argument("--integrated", action="store_true",
                        help="start every appliance enabled, registered (a real token, its own connector) and "
                             "added as a Threat Response module, with one test mail, so ctrlab doctor passes")
    parser.add_argument("--autojump", type=float, default=0.0, metavar="S",
                        help="let each appliance event (cloud ready, a registration's result) fire by itself after S "
                             "idle real seconds, for clients that wait as on real gear (0: only the jumps asked for)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="lab directory (CA bundle); default: a temporary folder removed when the lab stops")
    parser.add_argument("--https-port", type=int, default=None, help="port of the cloud sites (default 443)")
    parser.add_argument("--netns", action="store_true",
                        help="namespace mode (root, ip, nft): the appliance reaches the cloud from its own network "
                             "namespace through a firewall namespace (nftables) on 198.18.0.0/15")
    args = parser.parse_args(argv)
    if not args.testbed_out.parent.is_dir():
        # One line, and no folder created: a mistyped path must not leave directories behind.
        print(f"ctrlab sim up: --testbed-out: folder {args.testbed_out.parent} does not exist", file=sys.stderr)
        raise SystemExit(2)
    if not 1 <= args.appliances <= 500:
        parser.error("--appliances must be between 1 and 500")
    if not (0 <= args.sma <= 100 and 0 <= args.gateway <= 100):
        parser.error("--sma and --gateway must be between 0 and 100")
    if args.speed <= 0:
        parser.error("--speed must be > 0")
    if args.autojump < 0:
        parser.error("--autojump must be >= 0")
    if args.netns and not namespaces_available():
        parser.error("--netns needs root with the ip and nft commands (network namespaces and nftables)")
    options = LabOptions(appliances=args.appliances, kind=args.kind, sma=args.sma, gateway=args.gateway,
                         model=args.model,
                         version=args.asyncos_version, region=args.region, speed=args.speed,
                         directory=args.dir, https_port=args.https_port, netns=args.netns,
                         integrated=args.integrated, autojump=args.autojump)
    return options, args.testbed_out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("CTRLAB_SIM_LOG", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if "CTRLAB_SIM_LOG" not in os.environ:
        # The lab's own events (faults, commits, registrations) are what a failed scenario's report
        # wants; the libraries' INFO lines (every SSH channel, every request) would drown them.
        for noisy in ("asyncssh", "aiohttp.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    options, testbed_out = parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(options, testbed_out))
    return 0


if __name__ == "__main__":
    code = main()
    # The lab has stopped and removed what it made (run's finally). The interpreter's own teardown of every
    # module and object would cost another 0.3-0.6 s that the harness's teardown waits for: skip it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
