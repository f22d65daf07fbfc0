"""NetLab: the network between the appliances and the cloud, on loopback.

It ties together the address plan (one 127.a.b.x address per FQDN), the DNS server, the cloud's TLS
listeners, the firewall and the CONNECT proxy, and exposes the knobs the control plane turns.
All methods run on the lab's event loop; ``reset()`` may also be called from another thread.

``namespaces=True`` (root) adds the namespace mode: the same sites and a second DNS server also serve in
the cloud namespace of a ``NamespaceTopology`` (198.19.0.x:443, DNS on 198.19.0.2:53), every firewall
action is mirrored into nftables rules in the firewall namespace, and ``appliance_netns`` names the
namespace the appliance connector's sockets start in. The loopback side stays as it is: the harness
(and the proxy) reach the cloud there, never through 198.18.0.0/15 from the lab's own namespace.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from ..common.clock import SimClock
from ..common.pki import LabCA
from ..common.redact import Redactor
from ..common.regions import all_fqdns
from ..common.reqlog import RequestLog
from .addressing import Allocation, allocate, is_ipv4, is_loopback, normalize
from .dns import DnsTable, LabDnsServer
from .firewall import Action, Firewall
from .namespaces import CLOUD_ADDRESS, NamespaceError, NamespaceTopology, listen_socket_in
from .namespaces import available as namespaces_available
from .nft import NftDropRules, NftError
from .proxy import ConnectProxy, ProxyAuth
from .sites import Sites

FIREWALL_MODES = ("auto", "nftables", "emulated")
RESET_TIMEOUT = 10.0
NAMESPACE_HTTPS_PORT = 443  # root only, so the cloud namespace serves the documents' port
NAMESPACE_DNS_PORT = 53


class NetLabError(Exception):
    """A control request the lab cannot honour; ``status`` is the HTTP status to answer with."""

    status = 409


class UnknownFqdn(NetLabError, KeyError):
    status = 404

    def __init__(self, fqdn: str) -> None:
        super().__init__(f"unknown fqdn {fqdn!r}: the lab serves only its own FQDNs")
        self.fqdn = fqdn

    def __str__(self) -> str:  # KeyError would show the repr of the message
        return str(self.args[0])


class KernelFirewallError(NetLabError):
    status = 500


class NotStarted(NetLabError):
    status = 503

    def __init__(self) -> None:
        super().__init__("the netlab is not started")


class NetLab:
    def __init__(self, ca: LabCA, reqlog: RequestLog, redactor: Redactor, clock: SimClock,
                 https_port: int | None = None, proxy: bool = True, namespaces: bool = False) -> None:
        self._ca = ca
        self._reqlog = reqlog
        self._redactor = redactor
        self._clock = clock
        self._requested_port = https_port
        self._with_proxy = proxy
        self._apps: dict[str, web.Application] = {}
        # "auto": kernel drops when root and nftables allow, else emulated; tests and operators can
        # pin a mode (before start) with this attribute or CTRLAB_NETLAB_FIREWALL.
        self.firewall_mode = os.environ.get("CTRLAB_NETLAB_FIREWALL", "auto")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._alloc: Allocation | None = None
        self._table: DnsTable | None = None
        self._dns: LabDnsServer | None = None
        self._sites: Sites | None = None
        self._firewall: Firewall | None = None
        self._proxy: ConnectProxy | None = None
        self._namespaces = namespaces
        self._topology: NamespaceTopology | None = None
        self._ns_table: DnsTable | None = None
        self._ns_dns: LabDnsServer | None = None

    # ---- life cycle -------------------------------------------------------------------------------
    def add_site(self, fqdn: str, app: web.Application) -> None:
        if self._loop is not None:
            raise RuntimeError("add sites before start()")
        name = normalize(fqdn)
        if not name or " " in name or is_ipv4(name):
            raise ValueError(f"not an FQDN: {fqdn!r}")
        if name in self._apps:
            raise ValueError(f"{name} already has a site")
        self._apps[name] = app

    async def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError("the netlab is already started")
        if self.firewall_mode not in FIREWALL_MODES:
            raise ValueError(f"firewall_mode must be one of {FIREWALL_MODES}, not {self.firewall_mode!r}")
        if self._namespaces and not namespaces_available():
            raise NamespaceError("namespace mode needs root, ip and nft")
        self._loop = asyncio.get_running_loop()
        names = list(dict.fromkeys([*(normalize(n) for n in all_fqdns()), *self._apps]))
        try:
            self._alloc = alloc = allocate(names, list(self._apps), self._requested_port)
            self._table = DnsTable(alloc.addresses)
            self._dns = LabDnsServer(self._table, self._reqlog)
            await self._dns.start()
            self._sites = Sites(self._ca)
            await self._sites.start(self._loop, self._apps, alloc.addresses, alloc.https_port, alloc.sockets)
            alloc.sockets.clear()  # the listeners own them now
            kernel = NftDropRules.create() if self.firewall_mode != "emulated" else None
            if kernel is None and self.firewall_mode == "nftables":
                raise RuntimeError("firewall_mode 'nftables' needs root and a working nft")
            self._firewall = Firewall(self._loop, alloc.addresses, alloc.https_port,
                                      self._sites.listeners, kernel)
            if self._with_proxy:
                self._proxy = ConnectProxy(self._table, self._firewall, self._reqlog)
                await self._proxy.start()
            if self._namespaces:
                await self._start_namespaces(names)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Close everything and remove kernel rules; safe to call twice or after a failed start."""
        if self._ns_dns is not None:
            await self._ns_dns.stop()
        if self._proxy is not None:
            await self._proxy.stop()
        if self._firewall is not None:
            await self._firewall.aclose()
        if self._sites is not None:
            await self._sites.stop()
        if self._dns is not None:
            await self._dns.stop()
        if self._alloc is not None:
            self._alloc.release()
        if self._topology is not None:
            self._topology.destroy()  # the namespaces, their links and nftables go together
        self._proxy = self._firewall = self._sites = self._dns = self._alloc = self._table = None
        self._topology = self._ns_table = self._ns_dns = None
        self._loop = None

    async def _start_namespaces(self, names: list[str]) -> None:
        assert self._loop is not None and self._sites is not None
        self._topology = topology = NamespaceTopology(names)
        topology.create()
        self._ns_table = DnsTable(topology.addresses)
        self._ns_dns = LabDnsServer(self._ns_table, self._reqlog, host=CLOUD_ADDRESS, port=NAMESPACE_DNS_PORT,
                                    netns=topology.ns.cloud)
        await self._ns_dns.start()
        for fqdn in self._apps:
            sock = listen_socket_in(topology.ns.cloud, topology.addresses[fqdn], NAMESPACE_HTTPS_PORT)
            self._sites.listen_also(self._loop, fqdn, sock)

    def reset(self) -> None:
        """Firewall open, DNS normal, no interception, proxy without deny list or credentials."""
        loop = self._loop
        if loop is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._reset_now()
        else:
            async def on_the_loop() -> None:
                self._reset_now()

            asyncio.run_coroutine_threadsafe(on_the_loop(), loop).result(RESET_TIMEOUT)

    def _reset_now(self) -> None:
        if self._firewall is not None:
            self._firewall.reset()
        if self._table is not None:
            self._table.reset()
        if self._sites is not None:
            self._sites.reset()
        if self._proxy is not None:
            self._proxy.reset()
        if self._ns_table is not None:
            self._ns_table.reset()
        if self._topology is not None:
            self._topology.reset()

    # ---- what the rest of the lab needs -----------------------------------------------------------
    def address_of(self, fqdn: str) -> str:
        alloc = self._started()._alloc
        assert alloc is not None
        try:
            return alloc.addresses[normalize(fqdn)]
        except KeyError:
            raise UnknownFqdn(fqdn) from None

    @property
    def resolver(self) -> tuple[str, int]:
        dns = self._started()._dns
        assert dns is not None
        return dns.address

    @property
    def https_port(self) -> int:
        alloc = self._started()._alloc
        assert alloc is not None
        return alloc.https_port

    @property
    def appliance_netns(self) -> str | None:
        """Namespace mode: the appliance namespace (where the connector's sockets start), else None."""
        return self._topology.ns.appliance if self._topology is not None else None

    @property
    def appliance_resolver(self) -> tuple[str, int]:
        """The DNS server the appliance uses: in the cloud namespace in namespace mode."""
        if self._ns_dns is not None:
            return self._ns_dns.address
        return self.resolver

    @property
    def appliance_https_port(self) -> int:
        return NAMESPACE_HTTPS_PORT if self._topology is not None else self.https_port

    def dropped(self, fqdns: Iterable[str]) -> bool:
        """Whether the firewall drops one of ``fqdns``: a client that needs them waits in vain (the
        connector's give-up in lab time; true in emulated and kernel drop mode alike)."""
        return self._firewall is not None and any(self._firewall.drops(normalize(f)) for f in fqdns)

    @property
    def proxy_url(self) -> str | None:
        return self._proxy.url if self._proxy is not None else None

    def control_app(self) -> web.Application:
        from .control import control_app

        return control_app(self)

    # ---- knobs the control plane turns ------------------------------------------------------------
    def set_firewall(self, fqdn: str, port: int, action: Action) -> None:
        name = self._known(fqdn)
        assert self._firewall is not None
        try:
            self._firewall.set(name, port, action)
        except OSError as exc:
            # e.g. an emulated drop on a privileged port without root: nothing to bind the black hole to
            raise NetLabError(f"cannot {action} {name}:{port} here: {exc.strerror or exc}") from None
        except NftError as exc:
            raise KernelFirewallError(str(exc)) from None
        if self._topology is not None:
            # "443" in a request means the lab's HTTPS port; in the namespaces that is 443 itself.
            ns_port = NAMESPACE_HTTPS_PORT if port == self.https_port else port
            try:
                self._topology.set_policy(name, ns_port, action)
            except NamespaceError as exc:
                raise KernelFirewallError(str(exc)) from None

    def set_dns(self, fqdn: str, answer: str | None) -> None:
        """Answer ``answer`` (an IPv4 address on loopback) for ``fqdn``, or NXDOMAIN for None."""
        name = self._known(fqdn)
        assert self._table is not None
        if answer is not None and not is_loopback(answer):
            raise ValueError("answer must be an IPv4 address in 127.0.0.0/8: lab traffic stays on loopback")
        if answer == self._table.addresses[name]:
            self._table.restore(name)
        else:
            self._table.override(name, answer)
        if self._ns_table is not None and self._topology is not None:
            # The same fault in the cloud namespace: NXDOMAIN, or another lab FQDN's address there.
            other = self._table.name_of(answer) if answer is not None else None
            if other == name:
                self._ns_table.restore(name)
            else:
                self._ns_table.override(name, self._topology.addresses.get(other or "", answer))

    def restore_dns(self, fqdn: str) -> None:
        name = self._known(fqdn)
        assert self._table is not None
        self._table.restore(name)
        if self._ns_table is not None:
            self._ns_table.restore(name)

    def set_intercept(self, fqdn: str, enabled: bool) -> None:
        name = self._known(fqdn)
        assert self._sites is not None
        identity = self._sites.identities.get(name)
        if identity is None:
            raise NetLabError(f"no site serves {name}: there is no TLS to intercept")
        identity.intercept(enabled)

    def set_proxy_deny(self, deny: list[str]) -> None:
        names = [self._known(d) for d in deny]  # all known, or nothing changes
        self._proxy_or_fail().deny = set(names)

    def set_proxy_auth(self, auth: ProxyAuth | None) -> None:
        proxy = self._proxy_or_fail()
        if auth is not None:
            self._redactor.add(auth.password)
        proxy.auth = auth

    def set_proxy_connect_timeout(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("connect_timeout must be > 0")
        self._proxy_or_fail().connect_timeout_s = seconds

    def state(self) -> dict[str, Any]:
        self._started()
        assert self._alloc and self._dns and self._sites and self._firewall and self._table
        proxy = self._proxy
        topology = self._topology
        return {
            "mode": "namespaces" if topology is not None else "loopback",
            "namespaces": None if topology is None or self._ns_dns is None else {
                **dict(zip(("appliance", "firewall", "cloud"), topology.ns.all(), strict=True)),
                "appliance_address": topology.appliance_address,
                "resolver": {"host": self._ns_dns.host, "port": self._ns_dns.port},
                "https_port": NAMESPACE_HTTPS_PORT,
                "addresses": dict(topology.addresses),
                "filter": "nftables, forward chain of the firewall namespace",
            },
            "block": self._alloc.block,
            "https_port": self._alloc.https_port,
            "resolver": {"host": self._dns.host, "port": self._dns.port, "transports": ["udp", "tcp"]},
            "addresses": dict(self._alloc.addresses),
            "sites": sorted(self._sites.identities),
            "firewall": {
                "drop": self._firewall.drop_mode,
                "table": f"inet {self._firewall.kernel.table}" if self._firewall.kernel else None,
                "note": ("drop = kernel rule (nftables): connects time out"
                         if self._firewall.kernel else
                         "drop = userspace black hole: the TCP handshake completes, nothing answers"),
                "rules": self._firewall.rules(),
            },
            "dns": {"overrides": dict(sorted(self._table.overrides.items()))},
            "intercept": self._sites.intercepted(),
            "proxy": None if proxy is None else {
                "url": proxy.url,
                "deny": sorted(proxy.deny),
                "auth": {"username": proxy.auth.username} if proxy.auth else None,
                "connect_timeout": proxy.connect_timeout_s,
            },
        }

    def _started(self) -> NetLab:
        if self._alloc is None:
            raise NotStarted()
        return self

    def _proxy_or_fail(self) -> ConnectProxy:
        self._started()
        if self._proxy is None:
            raise NetLabError("this lab runs without a proxy")
        return self._proxy

    def _known(self, fqdn: str) -> str:
        self._started()
        assert self._table is not None
        name = normalize(fqdn)
        if name not in self._table.addresses:
            raise UnknownFqdn(fqdn)
        return name
