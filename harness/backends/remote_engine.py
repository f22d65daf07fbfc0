"""The docker backend on an engine on another host: where it is, and a testbed this machine can use.

The engine host is derived from ``DOCKER_HOST`` alone: ``tcp://H:P`` (also ``http``/``https``) or
``ssh://[user@]H[:P]`` give ``H``; unset, ``unix://``, ``npipe://`` or a loopback ``H`` mean the local
engine (host networking and a bind-mounted lab directory, as before). TLS to the engine
(``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``) is whatever ``docker.from_env`` makes of it.

On a remote engine the lab runs as locally (host networking, everything on the engine host's
loopback: resolver, FQDN addresses and firewall stay lab-only), behind ``ctrlab-tunnel``
(``virtual_appliances/docker/tunnel.py``) on one port of the engine host's address. The lab's files
(testbed, CA bundle) are read through the docker API, and :func:`relay_testbed` gives every endpoint a
loopback listener here (``relay.py``) and rewrites the testbed's ports to them.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import io
import ipaddress
import socket
import tarfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .base import BackendError
from .relay import Relays, fetch_json

if TYPE_CHECKING:
    from docker.models.containers import Container

LOCAL_SCHEMES = ("unix", "npipe", "fd")
REMOTE_SCHEMES = ("tcp", "http", "https", "ssh")
RESOLVE_TIMEOUT_S = 10.0
CLAIM_PORT = 47806  # the netlab's block claim (virtual_appliances/netlab/addressing.py; no import across)
BIND_ATTEMPTS = 20


def engine_host(docker_host: str | None) -> str | None:
    """The engine's host name or address from a ``DOCKER_HOST`` value; None for the local engine."""
    value = (docker_host or "").strip()
    if not value:
        return None
    scheme, sep, _ = value.partition("://")
    scheme = scheme.lower() if sep else ""
    if scheme in LOCAL_SCHEMES:
        return None
    if scheme not in REMOTE_SCHEMES:
        raise BackendError(f"DOCKER_HOST {value!r}: expected unix://, tcp://HOST:PORT or ssh://[USER@]HOST")
    try:
        host = urlsplit(value).hostname
    except ValueError:
        host = None
    if not host:
        raise BackendError(f"DOCKER_HOST {value!r} names no host")
    if host == "localhost" or _is_loopback(host):
        return None
    return host


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def engine_address(host: str) -> str:
    """An IPv4 address of ``host`` (as is when it is one); the name lookup has a deadline."""
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        infos = pool.submit(socket.getaddrinfo, host, None, socket.AF_INET, socket.SOCK_STREAM).result(
            RESOLVE_TIMEOUT_S)
    except (OSError, concurrent.futures.TimeoutError) as exc:
        raise BackendError(f"DOCKER_HOST: cannot resolve the engine host {host!r}: {exc or 'timed out'}") from exc
    finally:
        pool.shutdown(wait=False)
    return str(infos[0][4][0])


def read_file(container: Container, path: str) -> bytes:
    """One file from a container (running or stopped), through the docker API."""
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        extracted = tar.extractfile(member) if member is not None else None
        if extracted is None:
            raise BackendError(f"{path} in the container is not a file")
        return extracted.read()


def _bound(kind: int, host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _together(hosts: list[str], kinds: list[int], preferred: int | None) -> tuple[int, list[socket.socket]]:
    """One port free on every host for every kind (TCP listeners of all the sites, TCP+UDP of a resolver):
    ``preferred`` if it is, else one the kernel picks for the first and the others share."""
    for attempt in range(BIND_ATTEMPTS):
        port = preferred if attempt == 0 and preferred else 0
        socks: list[socket.socket] = []
        try:
            for host in hosts:
                for kind in kinds:
                    socks.append(_bound(kind, host, port))
                    port = port or socks[0].getsockname()[1]
            return port, socks
        except OSError as exc:
            for sock in socks:
                sock.close()
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
    raise BackendError(f"no port free on {', '.join(hosts)} after {BIND_ATTEMPTS} attempts")


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    netloc = parts.hostname or ""
    if port != default:
        netloc = f"{netloc}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _urls(raw: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(mapping, key) of every URL of the cloud and the simulator in a lab testbed."""
    simulator = raw["testbed"]["simulator"]
    for key in ("control_url", "proxy_url"):
        if simulator.get(key):
            yield simulator, key
    for service in (raw.get("cloud") or {}).values():
        if not isinstance(service, dict):
            continue
        for conf in service.values():
            if isinstance(conf, dict):
                for key in ("admin_url", "base_url", "intel_url"):
                    if conf.get(key):
                        yield conf, key


class FirewallMirror:
    """Mirrors the lab's *reject* rules on the relays of its sites, as the lab does on its own listeners:
    a rejected site's relay stops listening here, so a connection to it is refused as in a local run.

    It watches the control plane's relay: a POST/DELETE that may change the firewall (``/_sim/netlab/...``,
    ``/_sim/reset``, ``/_sim/faults/...``) makes its answer wait until the relays match the lab's rules
    (``GET /_sim/netlab`` through the tunnel), so the harness never sees the answer before the effect."""

    TRIGGERS = (b"/_sim/netlab/", b"/_sim/reset", b"/_sim/faults/")
    METHODS = (b"POST ", b"DELETE ", b"PUT ", b"PATCH ")

    def __init__(self, relays: Relays, control: tuple[str, int]) -> None:
        self.relays, self.control = relays, control
        self.sites: dict[str, tuple[str, int]] = {}  # FQDN -> its relay's local address
        self.https_port = 0  # the lab's HTTPS port on the engine host (rules name it)

    def wants(self, chunk: bytes) -> bool:
        head = chunk[:200]
        return head.startswith(self.METHODS) and any(t in head for t in self.TRIGGERS)

    async def before_answer(self) -> None:
        try:
            state = await fetch_json(self.relays.engine, self.control, "/_sim/netlab")
            rejected = {str(r["fqdn"]) for r in state["firewall"]["rules"]
                        if r["action"] == "reject" and int(r["port"]) == self.https_port}
        except (OSError, TimeoutError, ValueError, KeyError, TypeError):
            return  # the answer goes on; the relays keep their state
        for fqdn, local in self.sites.items():
            with contextlib.suppress(OSError):  # the address taken here meanwhile: that site stays refused
                await self.relays.set_listening(local, fqdn not in rejected)


def relay_control(raw: dict[str, Any], relays: Relays) -> tuple[str, FirewallMirror]:
    """Relay the control plane first (the rest needs its netlab state); returns its URL here."""
    simulator = raw["testbed"]["simulator"]
    url = urlsplit(simulator["control_url"])
    target = (url.hostname or "127.0.0.1", url.port or 80)
    mirror = FirewallMirror(relays, target)
    port, socks = _together([target[0]], [socket.SOCK_STREAM], None)
    relays.tcp(socks[0], target, hook=mirror)
    simulator["control_url"] = _with_port(simulator["control_url"], port)
    return str(simulator["control_url"]), mirror


def relay_testbed(raw: dict[str, Any], netlab: dict[str, Any], relays: Relays, ca_bundle: str,
                  mirror: FirewallMirror | None = None) -> dict[str, Any]:
    """The remote lab's testbed with every endpoint relayed from this machine's loopback (in place).

    ``raw``: the testbed the lab wrote, after :func:`relay_control`; ``netlab``: its ``/_sim/netlab``
    state (site addresses, HTTPS port, block); ``ca_bundle``: the local copy of the lab's CA bundle;
    ``mirror``: told where each site's relay listens."""
    done: dict[tuple[str, int], int] = {}

    def relay(host: str, port: int) -> int:
        if (host, port) not in done:
            local, socks = _together([host], [socket.SOCK_STREAM], None)
            relays.tcp(socks[0], (host, port))
            done[(host, port)] = local
        return done[(host, port)]

    # The cloud's sites: the same 127.a.b.c addresses here (their certificates name them), one shared port,
    # and the block claimed as the netlab claims it, so a local lab does not take the same addresses.
    block = ipaddress.IPv4Network(str(netlab["block"]), strict=False)
    try:
        relays.hold(_bound(socket.SOCK_DGRAM, str(block.network_address + 1), CLAIM_PORT))
    except OSError as exc:
        raise BackendError(f"the remote lab's address block {block} is in use on this machine ({exc}); "
                           "run again (a lab picks its block at random)") from exc
    remote_https = int(netlab["https_port"])
    addresses = netlab["addresses"]
    served = {name: addresses[name] for name in netlab.get("sites", addresses) if name in addresses}
    sites = sorted(set(served.values()))
    https, socks = _together(sites, [socket.SOCK_STREAM], remote_https)
    for address, sock in zip(sites, socks, strict=True):
        relays.tcp(sock, (address, remote_https))
        done[(address, remote_https)] = https
    if mirror is not None:
        mirror.https_port = remote_https
        mirror.sites = {name: (address, https) for name, address in served.items()}

    for mapping, key in _urls(raw):
        if key == "control_url":
            continue
        url = urlsplit(mapping[key])
        port = url.port or {"https": 443, "http": 80}[url.scheme]
        mapping[key] = _with_port(mapping[key], relay(url.hostname or "", port))

    for device in (raw.get("devices") or {}).values():
        for conn in (device.get("connections") or {}).values():
            if isinstance(conn, dict) and conn.get("host") and conn.get("port"):
                conn["port"] = relay(str(conn["host"]), int(conn["port"]))

    network = raw.setdefault("network", {})
    if network.get("resolver"):
        host, _, port_text = str(network["resolver"]).rpartition(":")
        port, (tcp, udp) = _together([host], [socket.SOCK_STREAM, socket.SOCK_DGRAM], None)
        relays.tcp(tcp, (host, int(port_text)))
        relays.dns(udp, (host, int(port_text)))
        network["resolver"] = f"{host}:{port}"
    network["https_port"] = https
    network["ca_bundle"] = ca_bundle
    # Namespace mode's names exist only on the engine host.
    for key in ("appliance_netns", "appliance_network"):
        raw["testbed"]["simulator"].pop(key, None)
    return raw
