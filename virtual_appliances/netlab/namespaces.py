"""Optional namespace mode (root only): appliance, firewall and cloud in their own network namespaces.

    appliance ns                firewall ns                       cloud ns
    a0 198.18.0.2/24 ── veth ── a1 198.18.0.1/24
                                c1 198.19.0.1/24 ── veth ── c0 198.19.0.2/24, FQDN i -> 198.19.0.(10+i)/32

The firewall namespace routes between the two (RFC 2544 benchmarking space 198.18.0.0/15, which no
real network uses) and filters the forwarded traffic with its own nftables table, so allow / reject /
drop are a real firewall between real hosts: a drop is a SYN that never arrives, a reject a TCP RST
sent by the firewall. Each lab's namespaces are private, so several labs can use the same addresses;
only the namespace names (``ctrlab-<pid>-<id>-<role>``) are global, and the pid lets a later lab sweep
the namespaces of a lab that died.

Servers and clients stay on the lab's event loop: ``socket_in()`` creates a socket inside a namespace
(from a short-lived thread that enters it with setns) and the socket keeps that namespace for life.
``NetLab(namespaces=True)`` (``python -m virtual_appliances.lab --netns``) wires the lab onto it: the
cloud's sites and DNS listen in the cloud namespace (``listen_socket_in``), and the appliance connector
opens its sockets in the appliance namespace (``appliance_socket_factory``).
"""

from __future__ import annotations

import ctypes
import ipaddress
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from .addressing import listen_socket
from .firewall import Action
from .nft import pid_alive

log = logging.getLogger("virtual_appliances.netlab")

IP_TIMEOUT = 5.0
CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
PREFIX = "ctrlab-"
_OWNED = re.compile(rf"^{PREFIX}(\d+)-[0-9a-f]+-(app|fw|cloud)$")

APPLIANCE_NET = ipaddress.IPv4Network("198.18.0.0/24")
CLOUD_NET = ipaddress.IPv4Network("198.19.0.0/24")
ROUTER_APPLIANCE_SIDE = "198.18.0.1"
APPLIANCE_ADDRESS = "198.18.0.2"
ROUTER_CLOUD_SIDE = "198.19.0.1"
CLOUD_ADDRESS = "198.19.0.2"
HOST_BASE = 10


class NamespaceError(RuntimeError):
    pass


def available() -> bool:
    """Root with ``ip`` and ``nft``: what namespace mode needs (whether the kernel allows it shows at create)."""
    return os.geteuid() == 0 and shutil.which("ip") is not None and shutil.which("nft") is not None


def _run(args: list[str], script: str | None = None) -> str:
    try:
        done = subprocess.run(args, input=script, capture_output=True, text=True, timeout=IP_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NamespaceError(f"{' '.join(args)}: {exc}") from exc
    if done.returncode != 0:
        raise NamespaceError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def lab_namespaces() -> list[str]:
    """Namespaces labs created, by any process."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(PREFIX))


def _setns(path: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def socket_in(namespace: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket that lives in ``namespace``. Created from a throw-away thread: setns changes only the
    calling thread's namespace, and this thread ends right after, so the event loop's thread never moves."""
    result: list[socket.socket | BaseException] = []

    def inside() -> None:
        try:
            _setns(NETNS_DIR / namespace)
            result.append(socket.socket(family, kind))
        except BaseException as exc:  # handed to the caller's thread
            result.append(exc)

    worker = threading.Thread(target=inside, name=f"setns-{namespace}", daemon=True)
    worker.start()
    worker.join(IP_TIMEOUT)
    if not result:
        raise NamespaceError(f"creating a socket in {namespace} did not finish")
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def listen_socket_in(namespace: str, address: str, port: int, backlog: int = 128) -> socket.socket:
    """A non-blocking TCP socket listening on ``address:port`` inside ``namespace``."""
    return listen_socket(address, port, backlog, sock=socket_in(namespace))


@dataclass(frozen=True)
class Namespaces:
    appliance: str
    firewall: str
    cloud: str

    def all(self) -> tuple[str, str, str]:
        return self.appliance, self.firewall, self.cloud


class NamespaceTopology:
    def __init__(self, fqdns: list[str]) -> None:
        if len(fqdns) > 254 - HOST_BASE:
            raise ValueError("too many FQDNs for one /24")
        lab = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        self.ns = Namespaces(f"{lab}-app", f"{lab}-fw", f"{lab}-cloud")
        self.addresses = {fqdn: str(CLOUD_NET.network_address + HOST_BASE + i) for i, fqdn in enumerate(fqdns)}
        self._policy: dict[tuple[str, int], Action] = {}
        self._created = False

    @property
    def appliance_address(self) -> str:
        return APPLIANCE_ADDRESS

    def create(self) -> None:
        """Build the three namespaces, their links, routes, forwarding and an empty firewall table."""
        if not available():
            raise NamespaceError("namespace mode needs root, ip and nft")
        sweep_dead_labs()
        app, fw, cloud = self.ns.all()
        self._created = True  # from here on, destroy() cleans up whatever exists
        try:
            for name in self.ns.all():
                _run(["ip", "netns", "add", name])
            # Created straight inside the namespaces: the short, fixed link names never meet in the root ns.
            _run(["ip", "link", "add", "a0", "netns", app, "type", "veth", "peer", "name", "a1", "netns", fw])
            _run(["ip", "link", "add", "c0", "netns", cloud, "type", "veth", "peer", "name", "c1", "netns", fw])
            _run(["ip", "-n", app, "-batch", "-"], script=(
                f"addr add {APPLIANCE_ADDRESS}/24 dev a0\nlink set lo up\nlink set a0 up\n"
                f"route add default via {ROUTER_APPLIANCE_SIDE}\n"))
            _run(["ip", "-n", fw, "-batch", "-"], script=(
                f"addr add {ROUTER_APPLIANCE_SIDE}/24 dev a1\naddr add {ROUTER_CLOUD_SIDE}/24 dev c1\n"
                "link set lo up\nlink set a1 up\nlink set c1 up\n"))
            _run(["ip", "-n", cloud, "-batch", "-"], script=(
                f"addr add {CLOUD_ADDRESS}/24 dev c0\n"
                + "".join(f"addr add {a}/32 dev c0\n" for a in self.addresses.values())
                + f"link set lo up\nlink set c0 up\nroute add {APPLIANCE_NET} via {ROUTER_CLOUD_SIDE}\n"))
            _run(["ip", "netns", "exec", fw, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
            self._apply_firewall()
        except BaseException:
            self.destroy()
            raise

    def destroy(self) -> None:
        """Delete the namespaces; their links, addresses and nftables go with them."""
        if not self._created:
            return
        for name in self.ns.all():
            if (NETNS_DIR / name).exists():
                try:
                    _run(["ip", "netns", "del", name])
                except NamespaceError as exc:
                    log.error("could not delete namespace %s: %s", name, exc)
        self._created = False
        self._policy.clear()

    def set_policy(self, fqdn: str, port: int, action: Action) -> None:
        """allow / reject (the firewall answers RST) / drop (the SYN vanishes) for traffic to fqdn:port."""
        if fqdn not in self.addresses:
            raise KeyError(fqdn)
        if action is Action.ALLOW:
            self._policy.pop((fqdn, port), None)
        else:
            self._policy[(fqdn, port)] = action
        self._apply_firewall()

    def reset(self) -> None:
        self._policy.clear()
        self._apply_firewall()

    def _apply_firewall(self) -> None:
        verdicts = {Action.DROP: "drop", Action.REJECT: "reject with tcp reset"}
        rules = "".join(
            f"    ip daddr {self.addresses[f]} tcp dport {p} {verdicts[a]}\n"
            for (f, p), a in sorted(self._policy.items()))
        _run(["ip", "netns", "exec", self.ns.firewall, "nft", "-f", "-"], script=(
            "add table inet ctrlab\ndelete table inet ctrlab\n"
            "table inet ctrlab {\n  chain forward {\n    type filter hook forward priority 0; policy accept;\n"
            f"{rules}  }}\n}}\n"))


def sweep_dead_labs() -> list[str]:
    """Delete namespaces left by labs whose process is gone; the names removed."""
    removed = []
    for name in lab_namespaces():
        match = _OWNED.match(name)
        if match is None or pid_alive(int(match.group(1))):
            continue
        try:
            _run(["ip", "netns", "del", name])
            removed.append(name)
        except NamespaceError as exc:
            log.warning("could not sweep namespace %s: %s", name, exc)
    return removed
