"""The AsyncOS CLI's network troubleshooting commands: ``dig``, ``nslookup``, ``telnet``.

They run from the appliance's own vantage point: names are resolved with a real DNS query to the
resolver the appliance uses (the lab's DNS server), and ``telnet`` makes a real TCP connection
through the netlab, so the firewall, DNS faults and the kernel drop rules apply to them exactly as to
the appliance's connector. Nothing here is canned text about the lab's state.

Batch forms (what the SSH layer passes in after splitting the line):

* ``dig [-s <source_ip>] [-t] [-x <address>] [@<server>] <name> [<qtype>]`` (``-t``: query over TCP);
  output in BIND's dig layout.
* ``nslookup <name> [<qtype>]``: AsyncOS's short form, ``A=<address> TTL=<ttl>``.
* ``telnet <host> [<port>]``: BSD telnet's lines ("Trying 127.x.y.z...", "Connected to <host>.",
  "Escape character is '^]'.", or "telnet: connect to address ...: Connection refused"). The
  connection is closed right after it opens: the simulated CLI has no interactive telnet session.

The exact AsyncOS wording of ``nslookup`` errors and of ``telnet``'s name-resolution failure is not
in the documents; these follow FreeBSD (AsyncOS's base) and are marked as the simulator's choice.
Port 443 means the lab's HTTPS port (a high port when the lab runs without root), as in the netlab's
control plane.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import socket
import time
from dataclasses import dataclass
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.reversename

DNS_TIMEOUT = 5.0
CONNECT_TIMEOUT = 10.0  # real seconds; FreeBSD's own connect timeout (75 s) is too long for a lab
TELNET_PORT = 23
NET_COMMANDS = frozenset({"dig", "nslookup", "telnet"})
DIG_VERSION = "9.16.48"
DIG_USAGE = "dig [-s <source_ip>] [-t] [-x <address>] [@<server>] <name> [<qtype>]"
NSLOOKUP_USAGE = "nslookup <name> [<qtype>]"
TELNET_USAGE = "telnet <host> [<port>]"


@dataclass(frozen=True)
class Vantage:
    """Where the appliance stands in the network: its resolver and the lab's stand-in for port 443."""

    resolver: tuple[str, int]
    https_port: int = 443
    dns_timeout: float = DNS_TIMEOUT
    connect_timeout: float = CONNECT_TIMEOUT

    @classmethod
    def of(cls, appliance: Any) -> Vantage | None:
        """The vantage of a lab appliance (its connector's network), None when it has no network."""
        network = getattr(getattr(appliance, "connector", None), "network", None)
        if network is None:
            return None
        if getattr(network, "netns", None):
            # Namespace mode: the appliance's resolver (198.19.x) exists only inside its namespace, and these
            # commands open their sockets in the lab's own namespace, where the packets would leave the host.
            return None
        host, port = network.resolver
        return cls((str(host), int(port)), int(network.https_port))

    def port(self, asked: int) -> int:
        return self.https_port if asked == 443 else asked


class _Usage(Exception):
    pass


# ---- dispatch -----------------------------------------------------------------------------------
def is_net_command(line: str) -> bool:
    words = line.strip().split(maxsplit=1)
    return bool(words) and words[0].lower() in NET_COMMANDS


async def run_line(line: str, vantage: Vantage | None) -> tuple[bool, str]:
    """Run one command line; (success, text in the CLI layout: a leading and a trailing newline)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return False, f"\nInvalid arguments: {line.strip()}\n"
    name, args = words[0].lower(), words[1:]
    if vantage is None:
        return False, "\nError: the appliance has no network interface configured.\n"
    try:
        if name == "dig":
            ok, text = await dig_result(args, vantage.resolver, vantage.dns_timeout)
        elif name == "nslookup":
            ok, text = await nslookup_result(args, vantage.resolver, vantage.dns_timeout)
        elif name == "telnet":
            host, port = _telnet_args(args)
            ok, text = await telnet_result(host, vantage.port(port), vantage.resolver, vantage.connect_timeout,
                                           shown_port=port, dns_timeout=vantage.dns_timeout)
        else:
            return False, f"\nUnknown command or missing feature key: {words[0]}\n"
    except _Usage as usage:
        return False, f"\nUsage: {usage}\n"
    return ok, f"\n{text}\n"


# ---- DNS ----------------------------------------------------------------------------------------
async def query(name: str, rdtype: str, resolver: tuple[str, int], timeout: float,
                tcp: bool = False) -> dns.message.Message:
    """One real query to ``resolver`` (UDP with TCP fallback, or TCP); raises dns.exception.Timeout."""
    message = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    host, port = resolver
    if tcp:
        return await dns.asyncquery.tcp(message, host, port=port, timeout=timeout)
    response, _ = await dns.asyncquery.udp_with_fallback(message, host, port=port, timeout=timeout)
    return response


async def dig(args: list[str], resolver: tuple[str, int], timeout: float = DNS_TIMEOUT) -> str:
    return (await dig_result(args, resolver, timeout))[1]


async def dig_result(args: list[str], resolver: tuple[str, int], timeout: float) -> tuple[bool, str]:
    name, rdtype, server, tcp = _dig_args(args, resolver)
    command = " ".join(args)
    head = f"; <<>> DiG {DIG_VERSION} <<>> {command}\n;; global options: +cmd"
    started = time.monotonic()
    try:
        response = await query(name, rdtype, server, timeout, tcp=tcp)
    except (dns.exception.Timeout, TimeoutError):
        return False, f"{head}\n;; connection timed out; no servers could be reached"
    except (OSError, dns.exception.DNSException) as exc:
        return False, f"{head}\n;; communications error to {server[0]}#{server[1]}: {exc}"
    elapsed_ms = int((time.monotonic() - started) * 1000)
    return True, f"{head}\n{_dig_body(response, server, elapsed_ms, tcp)}"


def _dig_args(args: list[str], resolver: tuple[str, int]) -> tuple[str, str, tuple[str, int], bool]:
    name, rdtype, server, tcp = None, "A", resolver, False
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if word == "-s":  # source address: the appliance has one interface in the lab
            if not rest:
                raise _Usage(DIG_USAGE)
            rest.pop(0)
        elif word == "-t":
            tcp = True
        elif word == "-x":
            if not rest:
                raise _Usage(DIG_USAGE)
            name, rdtype = dns.reversename.from_address(rest.pop(0)).to_text(), "PTR"
        elif word.startswith("@"):
            server = (word[1:], 53)
        elif name is None:
            name = word
        else:
            rdtype = word.upper()
    if name is None:
        raise _Usage(DIG_USAGE)
    try:
        dns.rdatatype.from_text(rdtype)
    except dns.rdatatype.UnknownRdatatype:
        raise _Usage(DIG_USAGE) from None
    return name, rdtype, server, tcp


def _dig_body(response: dns.message.Message, server: tuple[str, int], elapsed_ms: int, tcp: bool) -> str:
    flags = dns.flags.to_text(response.flags).lower()
    status = dns.rcode.to_text(response.rcode())
    counts = (f"QUERY: {len(response.question)}, ANSWER: {sum(len(r) for r in response.answer)}, "
              f"AUTHORITY: {sum(len(r) for r in response.authority)}, "
              f"ADDITIONAL: {sum(len(r) for r in response.additional)}")
    lines = [";; Got answer:", f";; ->>HEADER<<- opcode: QUERY, status: {status}, id: {response.id}",
             f";; flags: {flags}; {counts}", "", ";; QUESTION SECTION:"]
    lines += [f";{q.name.to_text()}\t\tIN\t{dns.rdatatype.to_text(q.rdtype)}" for q in response.question]
    for title, section in (("ANSWER", response.answer), ("AUTHORITY", response.authority)):
        if section:
            lines += ["", f";; {title} SECTION:"]
            lines += [line.replace(" ", "\t") for rrset in section for line in rrset.to_text().splitlines()]
    size = len(response.to_wire())
    lines += ["", f";; Query time: {elapsed_ms} msec",
              f";; SERVER: {server[0]}#{server[1]}({server[0]}) ({'TCP' if tcp else 'UDP'})",
              f";; MSG SIZE  rcvd: {size}"]
    return "\n".join(lines)


async def nslookup(args: list[str], resolver: tuple[str, int], timeout: float = DNS_TIMEOUT) -> str:
    return (await nslookup_result(args, resolver, timeout))[1]


async def nslookup_result(args: list[str], resolver: tuple[str, int], timeout: float) -> tuple[bool, str]:
    if not 1 <= len(args) <= 2:
        raise _Usage(NSLOOKUP_USAGE)
    name, rdtype = args[0], (args[1].upper() if len(args) > 1 else "A")
    try:
        dns.rdatatype.from_text(rdtype)
        response = await query(name, rdtype, resolver, timeout)
    except dns.rdatatype.UnknownRdatatype:
        raise _Usage(NSLOOKUP_USAGE) from None
    except (dns.exception.Timeout, TimeoutError):
        return False, f"Error: no answer from the DNS server {resolver[0]} for {name} (timed out)"
    except (OSError, dns.exception.DNSException) as exc:
        return False, f"Error: DNS query for {name} failed: {exc}"
    rcode = response.rcode()
    if rcode != dns.rcode.NOERROR:
        return False, f"Error: {name}: {dns.rcode.to_text(rcode)}"
    records = [(rrset.ttl, rd) for rrset in response.answer for rd in rrset
               if rrset.rdtype == dns.rdatatype.from_text(rdtype)]
    if not records:
        return False, f"Error: {name} has no {rdtype} record"
    return True, "\n".join(f"{rdtype}={rd.to_text()} TTL={_ttl(ttl)}" for ttl, rd in records)


def _ttl(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# ---- telnet -------------------------------------------------------------------------------------
def _telnet_args(args: list[str]) -> tuple[str, int]:
    if not 1 <= len(args) <= 2:
        raise _Usage(TELNET_USAGE)
    port_text = args[1] if len(args) == 2 else str(TELNET_PORT)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _Usage(TELNET_USAGE)
    return args[0], int(port_text)


async def telnet(host: str, port: int, resolver: tuple[str, int], timeout: float = CONNECT_TIMEOUT, *,
                 https_port: int | None = None) -> str:
    """``telnet host port`` from the appliance; ``https_port`` stands in for 443 when the lab uses another."""
    actual = https_port if (port == 443 and https_port) else port
    return (await telnet_result(host, actual, resolver, timeout, shown_port=port))[1]


async def telnet_result(host: str, port: int, resolver: tuple[str, int], timeout: float, *,
                        shown_port: int | None = None, dns_timeout: float = DNS_TIMEOUT) -> tuple[bool, str]:
    addresses, error = await _addresses(host, resolver, min(dns_timeout, timeout))
    if error:
        return False, f"telnet: {host}: {error}"
    lines: list[str] = []
    for address in addresses:
        lines.append(f"Trying {address}...")
        failure = await _connect(address, port, timeout)
        if failure is None:
            lines += [f"Connected to {host}.", "Escape character is '^]'.", "Connection closed."]
            return True, "\n".join(lines)
        lines.append(f"telnet: connect to address {address}: {failure}")
    lines.append("telnet: Unable to connect to remote host")
    return False, "\n".join(lines)


async def _addresses(host: str, resolver: tuple[str, int], timeout: float) -> tuple[list[str], str | None]:
    """The host's IPv4 addresses from the appliance's resolver (IP literals as they are)."""
    with contextlib.suppress(OSError):
        socket.inet_aton(host)
        if host.count(".") == 3:
            return [host], None
    try:
        response = await query(host, "A", resolver, timeout)
    except (dns.exception.Timeout, TimeoutError):
        return [], "Temporary failure in name resolution"
    except (OSError, dns.exception.DNSException) as exc:
        return [], f"Name resolution failed: {exc}"
    addresses = [rd.address for rrset in response.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset]
    if response.rcode() != dns.rcode.NOERROR or not addresses:
        return [], "hostname nor servname provided, or not known"
    return addresses, None


async def _connect(address: str, port: int, timeout: float) -> str | None:
    """None when connected (then closed at once), else the strerror telnet prints."""
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except TimeoutError:
        return "Operation timed out"
    except ConnectionRefusedError:
        return "Connection refused"
    except OSError as exc:
        return exc.strerror or str(exc)
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), timeout)
    return None
