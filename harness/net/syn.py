"""A raw SYN probe (scapy) that tells open (SYN-ACK) / closed (RST) / filtered (no answer) apart.

Why these choices:

* scapy's ``L3RawSocket``, not the default ``conf.L3socket``: the default (a PF_PACKET socket) builds
  the link layer itself and cannot send on loopback, where the simulator's FQDNs live. L3RawSocket
  sends through the kernel's IP stack (so routing, loopback and veth links, and local firewall rules
  apply as for any packet) and receives on a PF_PACKET socket on every interface, skipping the
  outgoing copies of packets. Nothing global (``conf.L3socket``) is changed.
* We send with the socket's raw IP half ourselves, not ``sock.send``: scapy logs and swallows the
  EPERM a local firewall rule returns, and that EPERM is itself a verdict (the SYN was dropped).
* The source port is reserved with a bound TCP socket, so the kernel gives it to no other connection
  (the concurrent TCP-connect probes) while the probe runs.
* After a SYN-ACK our kernel, which knows no such connection, answers the target with its own RST.
  That RST travels from us to the target, so only packets *from* target:port *to* our source
  address:port count as answers; the kernel's RST (and the looped-back copy of our own SYN on ``lo``)
  can never be taken for the target's answer.
"""

from __future__ import annotations

import functools
import logging
import random
import select
import socket
import time
from typing import Any

from .prefilter import keep_next
from .probe_result import CLOSED, ERROR, FILTERED, OPEN, Probe, finish

ETH_P_IP = 0x0800
RAW_REQUIRED = "raw sockets not allowed here (needs root or CAP_NET_RAW)"


def load_scapy() -> str | None:
    """Import the scapy parts used here (slow, once per process); None, or why it is not usable."""
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # no import-time chatter on the terminal
    try:
        import scapy.layers.inet
        import scapy.supersocket  # noqa: F401
    except ImportError as exc:
        return f"scapy is not installed ({exc})"
    return None


@functools.cache  # a process's right to raw sockets does not change; closing a packet socket waits ~11 ms
def raw_sockets_allowed() -> str | None:
    """None when this process may open raw IP and packet sockets, else the reason it may not."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW).close()
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP)).close()
    except PermissionError:
        return RAW_REQUIRED
    except (OSError, AttributeError) as exc:  # AF_PACKET is Linux-only
        return f"raw sockets unavailable: {exc}"
    return None


class SynProber:
    """Sends one SYN per probe and classifies the first matching answer."""

    @classmethod
    def create(cls) -> tuple[SynProber | None, str]:
        """A prober, and the text the report shows about SYN probing on this machine."""
        reason = load_scapy() or raw_sockets_allowed()
        if reason is not None:
            return None, f"SYN probe not run: {reason}; TCP connect only"
        return cls(), "SYN probe: scapy L3RawSocket (raw sockets allowed)"

    def probe(self, address: str, port: int, timeout: float) -> Probe:
        from scapy.layers.inet import IP, TCP
        from scapy.supersocket import L3RawSocket

        started = time.monotonic()
        src = source_address(address, port)
        if src is None:
            return finish(ERROR, f"no route to {address}", started)
        seq = random.getrandbits(32)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as hold:
            hold.bind((src, 0))
            sport = hold.getsockname()[1]
            syn = IP(src=src, dst=address) / TCP(sport=sport, dport=port, flags="S", seq=seq,
                                                 options=[("MSS", 1460)])
            sock = L3RawSocket()  # no iface: answers may come back on any interface
            try:
                assert sock.outs is not None
                try:
                    sock.outs.sendto(bytes(syn), (address, 0))
                except PermissionError:
                    return finish(FILTERED, "a firewall rule on this host dropped the SYN (EPERM)", started)
                except OSError as exc:
                    return finish(ERROR, f"cannot send the SYN: {exc.strerror or exc}", started)
                return self._await(sock, (src, sport), (address, port), seq, started + timeout, started)
            finally:
                sock.close()

    def _await(self, sock: Any, ours: tuple[str, int], theirs: tuple[str, int], seq: int, deadline: float,
               started: float) -> Probe:
        # The socket sees every packet on every interface (the other traffic of a busy host, another xdist
        # worker's on lo). Any answer to our SYN (the target's SYN-ACK or RST, an ICMP error quoting our
        # SYN) carries the target's address and our source port: a packet whose bytes lack either is
        # dropped unread, not dissected by scapy (CPU, and time the answer would wait behind it).
        marks = (socket.inet_aton(theirs[0]), ours[1].to_bytes(2, "big"))

        def may_answer(head: bytes) -> bool:
            return all(mark in head for mark in marks)

        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock.ins], [], [], left)
            if not ready:
                break
            try:
                if not keep_next(sock.ins, may_answer):
                    continue
                packet = sock.recv()
            except OSError:
                continue
            if packet is None:  # an outgoing copy, skipped by the socket
                continue
            state = classify(packet, ours, theirs, seq)
            if state is not None:
                return finish(state[0], state[1], started)
        return finish(FILTERED, f"no answer to the SYN within {deadline - started:g} s", started)


def classify(packet: Any, ours: tuple[str, int], theirs: tuple[str, int], seq: int) -> tuple[str, str] | None:
    """(state, detail) when ``packet`` is the target's answer to our SYN, else None."""
    from scapy.layers.inet import ICMP, IP, TCP, IPerror, TCPerror

    if IP not in packet:
        return None
    ip = packet[IP]
    if ICMP in packet and IPerror in packet and TCPerror in packet:
        inner, tcp_inner = packet[IPerror], packet[TCPerror]
        if (inner.src, tcp_inner.sport, inner.dst, tcp_inner.dport) == (*ours, *theirs) \
                and packet[ICMP].type == 3:
            return FILTERED, f"ICMP unreachable (code {packet[ICMP].code}) from {ip.src}"
        return None
    if TCP not in packet:
        return None
    tcp = packet[TCP]
    # Direction first: only target:port -> us:sport. Our kernel's RST goes the other way.
    if (ip.src, tcp.sport, ip.dst, tcp.dport) != (*theirs, *ours):
        return None
    flags = int(tcp.flags)
    acks_us = bool(flags & 0x10) and tcp.ack == (seq + 1) % 2**32
    if flags & 0x12 == 0x12 and acks_us:
        return OPEN, "SYN-ACK"
    if flags & 0x04 and (acks_us or not flags & 0x10):
        return CLOSED, "RST"
    return None


def source_address(address: str, port: int) -> str | None:
    """The address the kernel would send from to reach ``address`` (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((address, port))
        except OSError:
            return None
        return str(probe.getsockname()[0])
