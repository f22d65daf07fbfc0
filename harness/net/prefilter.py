"""A look at a packet's bytes before scapy dissects it (the costly part).

The SYN probe's socket and the capture without libpcap see every packet on their interfaces: a busy host's
traffic, another xdist worker's on ``lo``. A packet that cannot be one they want is taken off the queue
unread; the rest is left queued for scapy.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

PEEK_BYTES = 256  # link and IP headers (options included) and TCP/UDP ports, also those an ICMP error quotes


def keep_next(sock: socket.socket, wanted: Callable[[bytes], bool]) -> bool:
    """Whether the next queued packet's first bytes are ``wanted``; one that is not is dropped unread."""
    if wanted(sock.recv(PEEK_BYTES, socket.MSG_PEEK)):
        return True
    sock.recv(1)  # a datagram socket: this takes the whole packet off the queue
    return False
