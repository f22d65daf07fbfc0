"""Where a lab's sites live: one loopback address per FQDN and one HTTPS port shared by all of them.

Several labs can run on one machine at once (parallel test workers), so each lab claims a random
``127.<a>.<b>.0/24`` block and gives FQDN ``i`` the address ``.10+i``. Linux routes all of 127.0.0.0/8
to the loopback interface, so every address in the block is bindable without configuring anything.
"""

from __future__ import annotations

import errno
import ipaddress
import random
import socket
from dataclasses import dataclass, field

HOST_BASE = 10  # FQDN i -> 127.a.b.(10+i)
MAX_NAMES = 254 - HOST_BASE
BLOCK_ATTEMPTS = 64
# Every lab binds a UDP socket on 127.a.b.1:CLAIM_PORT for as long as it runs. Two labs with different
# HTTPS ports would not collide on their listeners, but sharing a block would still confuse DNS answers
# and firewall rules, so the claim makes a block exclusive whatever the ports.
CLAIM_PORT = 47806
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


def normalize(fqdn: str) -> str:
    """DNS names compare case-insensitively and may carry the root dot."""
    return fqdn.strip().rstrip(".").lower()


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.IPv4Address(address) in LOOPBACK
    except ValueError:
        return False


def is_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def listen_socket(address: str, port: int, backlog: int = 128, sock: socket.socket | None = None) -> socket.socket:
    """A bound, listening TCP socket; the kernel queues connections before asyncio serves it.

    ``sock``: a fresh TCP socket to use, e.g. one created inside a network namespace."""
    sock = sock or socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # Re-opening a listener after a "reject" must not trip over the old one's TIME_WAIT
        # connections; two *listening* sockets on one address:port still collide on Linux.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass
class Allocation:
    prefix: str  # "127.a.b"
    https_port: int
    addresses: dict[str, str]  # fqdn -> address, in assignment order
    sockets: dict[str, socket.socket]  # fqdn -> listening socket, for the FQDNs that have a site
    claim: socket.socket = field(repr=False)

    @property
    def block(self) -> str:
        return f"{self.prefix}.0/24"

    def release(self) -> None:
        for sock in self.sockets.values():
            sock.close()
        self.sockets.clear()
        self.claim.close()


class _Collision(Exception):
    """Someone else uses this block or port: try another block."""


def allocate(names: list[str], site_names: list[str], https_port: int | None = None,
             rng: random.Random | None = None) -> Allocation:
    """Claim a free block, assign addresses and bind a listening socket for every site.

    The port is ``https_port`` if given, else 443 when this process may bind it, else one free high
    port the kernel picks for the first site and every other site then shares.
    """
    if len(names) > MAX_NAMES:
        raise ValueError(f"a lab block holds at most {MAX_NAMES} FQDNs, got {len(names)}")
    rng = rng or random.Random()
    for _ in range(BLOCK_ATTEMPTS):
        prefix = f"127.{rng.randrange(1, 255)}.{rng.randrange(256)}"
        claim = _claim(prefix)
        if claim is None:
            continue
        addresses = {name: f"{prefix}.{HOST_BASE + i}" for i, name in enumerate(names)}
        try:
            port, sockets = _bind_sites(addresses, site_names, https_port, probe=f"{prefix}.1")
        except _Collision:
            claim.close()
            continue
        except BaseException:
            claim.close()
            raise
        return Allocation(prefix, port, addresses, sockets, claim)
    raise RuntimeError(f"no free 127.x.y.0/24 block after {BLOCK_ATTEMPTS} attempts")


def _claim(prefix: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((f"{prefix}.1", CLAIM_PORT))
    except OSError:
        sock.close()
        return None
    return sock


def _bind_sites(addresses: dict[str, str], site_names: list[str], https_port: int | None,
                probe: str) -> tuple[int, dict[str, socket.socket]]:
    # The claim already keeps other labs out of this block, so "in use" on 443 means something else
    # on the machine listens on *:443 (or we may not bind low ports): use a high port instead.
    candidates = [https_port] if https_port is not None else [443, 0]
    for candidate in candidates:
        port = candidate
        sockets: dict[str, socket.socket] = {}
        try:
            for name in site_names:
                sockets[name] = listen_socket(addresses[name], port)
                port = sockets[name].getsockname()[1]  # 0 -> the kernel's pick, shared by the rest
            if not site_names:
                port = _probe_port(probe, port)
            return port, sockets
        except OSError as exc:
            for sock in sockets.values():
                sock.close()
            if https_port is not None:
                raise OSError(exc.errno, f"cannot listen on the requested port {https_port}: "
                                         f"{exc.strerror}") from exc
            if candidate == 443 and exc.errno in (errno.EACCES, errno.EPERM, errno.EADDRINUSE):
                continue
            if exc.errno == errno.EADDRINUSE:
                raise _Collision from exc  # the kernel's pick is taken on another address: next block
            raise
    raise RuntimeError("unreachable: the high-port candidate either binds or raises")


def _probe_port(address: str, port: int) -> int:
    """A lab without sites still reports a port: check it is bindable, then let go."""
    sock = listen_socket(address, port)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()
