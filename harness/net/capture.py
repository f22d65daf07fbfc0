"""Packet capture of the probes (scapy AsyncSniffer), written as a pcap for the report.

The capture runs on the interfaces the kernel routes the resolver and the proxy through (``lo`` in
the simulator, the lab link in namespace mode), with a BPF filter on the resolver, the proxy and the
HTTPS port when libpcap can compile one, else the same filter in Python. At the end only packets to
or from the probed addresses are kept, so traffic of other labs on the same interface stays out.

On ``lo`` every packet passes the interface twice (out, then in); the capture socket there is an
``L2Socket``, which skips outgoing copies, as libpcap does on loopback. Elsewhere an
``L2ListenSocket`` sees both directions.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .prefilter import keep_next
from .settings import NetSettings

START_TIMEOUT = 5.0


class Capture:
    def __init__(self, sniffer: Any, sockets: list[Any], lfilter: Callable[[Any], bool] | None,
                 ifaces: list[str], bpf: str, compiled: bool) -> None:
        self._sniffer = sniffer
        self._sockets = sockets
        self._lfilter = lfilter
        self.ifaces = ifaces
        self.bpf = bpf
        self.compiled = compiled
        self.packets: list[Any] = []

    @classmethod
    def start(cls, settings: NetSettings) -> tuple[Capture | None, str]:
        """A running capture, or None and why there is none."""
        from scapy.arch.linux import L2ListenSocket, L2Socket
        from scapy.sendrecv import AsyncSniffer

        hosts = [h for h in _hosts(settings) if _is_ip(h)]
        ifaces = sorted({_iface_for(h) for h in hosts} or {_default_iface()})
        bpf = _bpf(settings)
        compiled = all(_compiles(bpf, iface) for iface in ifaces)
        ports = None if compiled else _filter_ports(settings)
        sockets: list[Any] = []
        try:
            for iface in ifaces:
                kind = L2Socket if iface == "lo" else L2ListenSocket
                if ports is not None:
                    kind = _prefiltered(kind, ports)
                sockets.append(kind(iface=iface, filter=bpf if compiled else None, promisc=False))
        except OSError as exc:
            for sock in sockets:
                sock.close()
            return None, f"no capture: {exc}"
        lfilter = None if compiled else _python_filter(settings)
        started = threading.Event()
        sniffer = AsyncSniffer(opened_socket=sockets, lfilter=lfilter, store=True,
                               started_callback=started.set)
        sniffer.start()
        if not started.wait(START_TIMEOUT):
            for sock in sockets:
                sock.close()
            return None, "no capture: the sniffer did not start"
        how = "BPF" if compiled else "Python filter (libpcap not found, BPF not compiled)"
        return cls(sniffer, sockets, lfilter, ifaces, bpf, compiled), f"capture on {', '.join(ifaces)}, {how}: {bpf}"

    def stop(self, addresses: Iterable[str]) -> list[Any]:
        """Stop, keep the packets to or from ``addresses``, and return them."""
        from scapy.layers.inet import IP

        results = list(self._sniffer.stop(join=True) or [])
        results += self._drain()  # what was still queued in the sockets when the sniffer stopped
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        keep = set(addresses)
        self.packets = [p for p in results if IP in p and (p[IP].src in keep or p[IP].dst in keep)]
        self.packets.sort(key=lambda p: float(p.time))
        return self.packets

    def write(self, path: Path) -> int:
        from scapy.utils import wrpcap

        path.parent.mkdir(parents=True, exist_ok=True)
        wrpcap(str(path), self.packets)
        return len(self.packets)

    def _drain(self) -> list[Any]:
        drained = []
        for sock in self._sockets:
            while select.select([sock.ins], [], [], 0)[0]:
                try:
                    packet = sock.recv()
                except OSError:
                    break
                if packet is not None and (self._lfilter is None or self._lfilter(packet)):
                    drained.append(packet)
        return drained


def _hosts(settings: NetSettings) -> list[str]:
    hosts = []
    if settings.resolver:
        hosts.append(settings.resolver[0])
    if settings.proxy:
        hosts.append(settings.proxy.host)
    return hosts


def _bpf(settings: NetSettings) -> str:
    parts = [f"(tcp port {settings.https_port})"]
    if settings.resolver:
        parts.append(f"(host {settings.resolver[0]} and port {settings.resolver[1]})")
    if settings.proxy and _is_ip(settings.proxy.host):
        parts.append(f"(tcp and host {settings.proxy.host} and port {settings.proxy.port})")
    return " or ".join(parts)


def _python_filter(settings: NetSettings) -> Callable[[Any], bool]:
    """The BPF expression of ``_bpf`` as a Python predicate, for machines without libpcap."""
    from scapy.layers.inet import IP, TCP, UDP

    port = settings.https_port
    resolver = settings.resolver
    proxy = (settings.proxy.host, settings.proxy.port) if settings.proxy else None

    def keep(packet: Any) -> bool:
        if IP not in packet:
            return False
        ip = packet[IP]
        layer = packet.getlayer(TCP) or packet.getlayer(UDP)
        if layer is None:
            return False
        ports = {layer.sport, layer.dport}
        hosts = {ip.src, ip.dst}
        if TCP in packet and port in ports:
            return True
        if resolver and resolver[0] in hosts and resolver[1] in ports:
            return True
        return bool(proxy and TCP in packet and proxy[0] in hosts and proxy[1] in ports)

    return keep


def _filter_ports(settings: NetSettings) -> tuple[bytes, ...]:
    """The port numbers of ``_bpf`` as they appear in a packet's bytes (network order)."""
    ports = [settings.https_port]
    if settings.resolver:
        ports.append(settings.resolver[1])
    if settings.proxy:
        ports.append(settings.proxy.port)
    return tuple(port.to_bytes(2, "big") for port in ports)


def _prefiltered(kind: Any, marks: tuple[bytes, ...]) -> Any:
    """``kind`` (a scapy socket class) that drops, unread, a packet none of whose first bytes spell a port of
    the filter: the Python filter would refuse it after dissection, which is the costly part (every packet of
    every other process on the interface, another xdist worker's on ``lo``)."""

    def may_match(head: bytes) -> bool:
        return any(mark in head for mark in marks)

    class Prefiltered(kind):  # type: ignore[misc,valid-type]
        def recv(self, x: int = 65535, **kwargs: Any) -> Any:
            if not keep_next(self.ins, may_match):
                return None
            return super().recv(x, **kwargs)

    return Prefiltered


def _compiles(bpf: str, iface: str) -> bool:
    from scapy.arch.common import compile_filter

    try:
        compile_filter(bpf, iface=iface)
    except Exception:  # ImportError (no libpcap) or Scapy_Exception (bad expression)
        return False
    return True


def _iface_for(host: str) -> str:
    from scapy.config import conf

    return str(conf.route.route(host)[0])


def _default_iface() -> str:
    from scapy.config import conf

    return str(conf.iface)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True
