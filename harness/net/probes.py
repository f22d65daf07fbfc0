"""Userspace probes of port 443: TCP connect, TLS handshake with SNI, HTTP CONNECT through a proxy.

Every socket operation has a timeout; a probe never raises for a network outcome, it reports it.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import socket
import ssl
import time
from collections.abc import Callable

from cryptography import x509

from .probe_result import (
    DENIED,
    ERROR,
    FAILED,
    INTERCEPTED,
    OPEN,
    REFUSED,
    TIMEOUT,
    TUNNEL,
    UNREACHABLE,
    VERIFIED,
    Probe,
    finish,
)
from .settings import ProxySpec

HEAD_LIMIT = 16 * 1024
# OpenSSL verify codes that mean "signed by a CA the bundle does not know": what a TLS-intercepting
# middlebox causes. Other failures (expired, wrong name) are reported as plain TLS failures.
_UNKNOWN_ISSUER = {18, 19, 20, 21}
_REJECTED = {errno.EHOSTUNREACH, errno.ENETUNREACH}

Connect = Callable[[float], socket.socket]
"""Opens a fresh connection to the target (direct, or a tunnel through the proxy) within a timeout."""


def tcp_connect(address: str, port: int, timeout: float) -> Probe:
    started = time.monotonic()
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return finish(OPEN, "TCP handshake completed", started)
    except ConnectionRefusedError:
        return finish(REFUSED, "connection refused (RST)", started)
    except TimeoutError:
        return finish(TIMEOUT, f"no answer to the SYN within {timeout:g} s", started)
    except OSError as exc:
        if exc.errno in _REJECTED:  # an ICMP "unreachable / prohibited" is a firewall saying no
            return finish(REFUSED, f"{exc.strerror} (ICMP)", started)
        return finish(ERROR, exc.strerror or str(exc), started)  # e.g. EPERM: a local rule dropped it


def direct(address: str, port: int) -> Connect:
    return lambda timeout: socket.create_connection((address, port), timeout=timeout)


def tls_handshake(connect: Connect, sni: str, ca_bundle: str | None, timeout: float) -> Probe:
    """Handshake with SNI ``sni``, verifying chain and name against ``ca_bundle``; on an unknown issuer,
    a second, unverified handshake fetches the certificate to name who issued it (interception)."""
    started = time.monotonic()
    context = ssl.create_default_context(cafile=ca_bundle)
    try:
        with connect(timeout) as raw:
            raw.settimeout(timeout)
            with context.wrap_socket(raw, server_hostname=sni) as tls:
                return finish(VERIFIED, f"{tls.version()}, certificate for {sni} verified", started)
    except ssl.SSLCertVerificationError as exc:
        if exc.verify_code in _UNKNOWN_ISSUER:
            issuer = _issuer(connect, sni, timeout)
            bundle = ca_bundle or "the system trust store"
            return finish(INTERCEPTED, f"certificate issued by '{issuer}', not trusted by {bundle} "
                                       f"({exc.verify_message})", started)
        return finish(FAILED, f"certificate rejected: {exc.verify_message}", started)
    except TimeoutError:
        return finish(TIMEOUT, f"TCP connected but no TLS answer within {timeout:g} s", started)
    except ConnectionRefusedError:
        return finish(FAILED, "connection refused (RST)", started)
    except (ssl.SSLError, OSError) as exc:
        return finish(FAILED, f"TLS handshake failed: {exc}", started)


def _issuer(connect: Connect, sni: str, timeout: float) -> str:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only to read the certificate that failed verification
    try:
        with connect(timeout) as raw:
            raw.settimeout(timeout)
            with context.wrap_socket(raw, server_hostname=sni) as tls:
                der = tls.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError) as exc:
        return f"unknown ({exc})"
    if not der:
        return "unknown (no certificate)"
    return x509.load_der_x509_certificate(der).issuer.rfc4514_string()


def proxy_tunnel(proxy: ProxySpec, fqdn: str, port: int, timeout: float) -> tuple[Probe, socket.socket | None]:
    """CONNECT fqdn:port through the proxy. The probe, and the tunnel socket when the proxy said 200
    (the caller owns and closes it)."""
    started = time.monotonic()
    deadline = started + timeout
    try:
        sock = socket.create_connection((proxy.host, proxy.port), timeout=timeout)
    except ConnectionRefusedError:
        return finish(UNREACHABLE, f"proxy {proxy.display} refused the connection", started), None
    except TimeoutError:
        return finish(UNREACHABLE, f"proxy {proxy.display} did not accept within {timeout:g} s", started), None
    except OSError as exc:
        return finish(UNREACHABLE, f"proxy {proxy.display}: {exc.strerror or exc}", started), None
    try:
        sock.sendall(_connect_request(proxy, fqdn, port))
        status, reason, body = _read_answer(sock, deadline)
    except TimeoutError:
        sock.close()
        return finish(TIMEOUT, f"no answer to CONNECT within {timeout:g} s", started), None
    except (OSError, ValueError) as exc:
        sock.close()
        return finish(ERROR, f"proxy {proxy.display}: {exc}", started), None
    if status == 200:
        return finish(TUNNEL, f"200 {reason}", started), sock
    sock.close()
    detail = f"{status} {reason}" + (f": {body}" if body else "")
    return finish(DENIED, detail, started), None


def through_proxy(proxy: ProxySpec, fqdn: str, port: int) -> Connect:
    """A Connect that opens a fresh CONNECT tunnel (for the TLS probe and its issuer look-up)."""
    def connect(timeout: float) -> socket.socket:
        probe, sock = proxy_tunnel(proxy, fqdn, port, timeout)
        if sock is None:
            raise OSError(f"proxy CONNECT failed: {probe.detail}")
        return sock

    return connect


def _connect_request(proxy: ProxySpec, fqdn: str, port: int) -> bytes:
    lines = [f"CONNECT {fqdn}:{port} HTTP/1.1", f"Host: {fqdn}:{port}"]
    if proxy.username is not None:
        token = base64.b64encode(f"{proxy.username}:{proxy.password or ''}".encode()).decode()
        lines.append(f"Proxy-Authorization: Basic {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_answer(sock: socket.socket, deadline: float) -> tuple[int, str, str]:
    """(status, reason, first line of the body) of the proxy's answer, read up to the deadline."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(_left(deadline))
        chunk = sock.recv(4096)
        if not chunk:
            raise ValueError("the proxy closed the connection without an answer")
        data += chunk
        if len(data) > HEAD_LIMIT:
            raise ValueError("the proxy's answer head is too long")
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
    status, reason = int(parts[1]), parts[2] if len(parts) > 2 else ""
    if status != 200 and b"\n" not in rest:
        with contextlib.suppress(OSError):  # the body is a courtesy: what the proxy says, if it says it now
            sock.settimeout(min(0.2, _left(deadline)))
            rest += sock.recv(2048)
    body = rest.decode("utf-8", "replace").strip().splitlines()
    return status, reason, body[0][:200] if body else ""


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left
