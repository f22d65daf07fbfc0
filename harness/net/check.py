"""The firewall prerequisite as a real check (PRE-3, PRE-4): resolve, then probe 443, every FQDN at once.

Each FQDN gets a worker thread; the workers wait on a barrier and start together, and within a worker
the raw SYN probe runs beside the TCP connect. So a check with one dropped FQDN lasts about one probe
timeout, not one per FQDN: the probes' timeouts overlap instead of adding up.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.report import masking

from . import netns
from .capture import Capture
from .fqdns import required_fqdns
from .probe_result import ERROR, OPEN, UNAVAILABLE, Probe, skipped
from .probes import direct, proxy_tunnel, tcp_connect, through_proxy, tls_handshake
from .report import FqdnResult, NetcheckReport, in_a_test
from .resolve import resolve
from .settings import NetSettings, SettingsError
from .syn import SynProber
from .verdict import judge

DEFAULT_TIMEOUT = 5.0
# A worker runs at most DNS + connect + TLS (+ the issuer look-up), each bounded by the probe
# timeout; this is only the backstop for a probe that would ignore its own timeout.
WORKER_BUDGET_FACTOR = 5


def check(testbed: Any, region: str | None = None, timeout: float = DEFAULT_TIMEOUT, *,
          fqdns: Sequence[str] | None = None, pcap: str | Path | None = None, raw: bool = True,
          attach: bool | None = None, vantage: str = "harness") -> NetcheckReport:
    """Check every FQDN the region needs (or ``fqdns``) from this machine.

    ``testbed``: a path, the testbed mapping or model, or :class:`NetSettings`. ``region`` overrides the
    testbed's. ``pcap``: where to write the capture (needs raw sockets). ``raw=False`` skips the SYN
    probe and the capture. ``attach``: attach table, JSON and pcap to Allure (default: when a pytest
    test is running).
    """
    if timeout <= 0:
        raise ValueError("timeout must be > 0")
    settings = NetSettings.from_testbed(testbed)
    if settings.proxy is not None and settings.proxy.password:
        masking.add_credentials(settings.proxy.username, settings.proxy.password)  # and its Proxy-Authorization
    region = (region or settings.region).lower()
    names = list(dict.fromkeys(fqdns)) if fqdns else required_fqdns(region)
    attach = in_a_test() if attach is None else attach
    if settings.netns is not None and not netns.inside(settings.netns):
        return _check_in_namespace(settings, region, timeout, names, pcap, raw, attach)
    if settings.resolver is not None and (reason := netns.refusal(settings.resolver[0])):
        raise SettingsError(reason)
    prober, syn_note = SynProber.create() if raw else (None, "SYN probe not run: disabled; TCP connect only")
    capture, capture_note = _start_capture(settings, prober is not None, want=bool(pcap) or attach)

    started = time.monotonic()
    results: list[FqdnResult] = []
    try:
        results = _probe_all(names, settings, timeout, prober)
    finally:  # the sniffer thread must stop even when a probe raised
        packets = capture.stop(_captured_hosts(settings, results)) if capture is not None else []
    elapsed = time.monotonic() - started

    report = NetcheckReport(
        vantage=vantage, region=region, results=results,
        resolver=f"{settings.resolver[0]}:{settings.resolver[1]}" if settings.resolver else "system",
        https_port=settings.https_port, ca_bundle=settings.ca_bundle or "system trust store",
        proxy=settings.proxy.display if settings.proxy else "none (direct, PRE-3)",
        timeout=timeout, elapsed=elapsed, syn_note=syn_note, capture_note=capture_note, packets=packets,
        started=started)
    if capture is not None:
        report.pcap = _write_pcap(capture, pcap)
    if attach:
        report.attach()
        if pcap is None and report.pcap is not None:
            report.pcap.unlink(missing_ok=True)  # a temporary file, only for the attachment
            report.pcap = None
    return report


def _check_in_namespace(settings: NetSettings, region: str, timeout: float, names: list[str],
                        pcap: str | Path | None, raw: bool, attach: bool) -> NetcheckReport:
    """The appliance's vantage point in namespace mode: the same check, run by a child in its namespace."""
    temporary = None
    if pcap is None and attach and raw:  # the attachment wants the capture even when the caller does not
        with tempfile.NamedTemporaryFile(prefix="netcheck-", suffix=".pcap", delete=False) as tmp:
            temporary = Path(tmp.name)
    target = Path(pcap) if pcap is not None else temporary
    try:
        report = NetcheckReport.from_dict(netns.check_in_namespace(settings, region, timeout, names, target, raw))
        if attach:
            report.attach()
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    if temporary is not None:
        report.pcap = None
    return report


def _start_capture(settings: NetSettings, raw_ok: bool, want: bool) -> tuple[Capture | None, str]:
    if not want:
        return None, ""
    if not raw_ok:
        return None, "no capture: it needs the raw sockets the SYN probe needs"
    try:
        return Capture.start(settings)
    except Exception as exc:  # the capture is evidence, not the check: never let it fail the check
        return None, f"no capture: {exc}"


def _write_pcap(capture: Capture, pcap: str | Path | None) -> Path:
    if pcap is not None:
        path = Path(pcap)
    else:
        with tempfile.NamedTemporaryFile(prefix="netcheck-", suffix=".pcap", delete=False) as tmp:
            path = Path(tmp.name)
    capture.write(path)
    return path


def _probe_all(names: list[str], settings: NetSettings, timeout: float,
               prober: SynProber | None) -> list[FqdnResult]:
    barrier = threading.Barrier(len(names))
    # Two threads per FQDN: its worker, and its SYN probe running beside the TCP connect.
    with ThreadPoolExecutor(max_workers=2 * len(names), thread_name_prefix="netcheck") as pool:
        futures = [pool.submit(_probe_one, name, settings, timeout, prober, barrier, pool) for name in names]
        return [f.result(timeout=WORKER_BUDGET_FACTOR * timeout + 10) for f in futures]


def _probe_one(fqdn: str, settings: NetSettings, timeout: float, prober: SynProber | None,
               barrier: threading.Barrier, pool: ThreadPoolExecutor) -> FqdnResult:
    # Start together: the overlap of the probes is by construction. A broken barrier (a sibling
    # failed to start) is no reason not to probe.
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout)
    started = time.monotonic()
    if settings.proxy is not None:
        dns, address, tcp, syn, tls, proxy = _via_proxy(fqdn, settings, timeout)
    else:
        dns, address, tcp, syn, tls, proxy = _direct(fqdn, settings, timeout, prober, pool)
    verdict, remedy = judge(fqdn, settings, dns, tcp, tls, proxy)
    return FqdnResult(fqdn, address, dns, tcp, syn, tls, proxy, verdict, remedy, started, time.monotonic())


def _direct(fqdn: str, settings: NetSettings, timeout: float, prober: SynProber | None,
            pool: ThreadPoolExecutor) -> tuple[Probe, str | None, Probe, Probe, Probe, Probe]:
    port = settings.https_port
    no_proxy = skipped("no proxy configured")
    dns, addresses = resolve(fqdn, settings.resolver, timeout)
    if not addresses:
        nothing = skipped("no address")
        return dns, None, nothing, nothing, nothing, no_proxy
    address = addresses[0]
    if reason := netns.refusal(address):  # an answer pointing into a namespace lab we are not in
        refused = Probe(ERROR, reason)
        return dns, address, refused, skipped("not probed"), skipped("no TCP connection"), no_proxy
    syn_future: Future[Probe] | None = pool.submit(_syn, prober, address, port, timeout) if prober else None
    tcp = tcp_connect(address, port, timeout)
    if tcp.state == OPEN:
        tls = tls_handshake(direct(address, port), fqdn, settings.ca_bundle, timeout)
    else:
        tls = skipped("no TCP connection")
    syn = syn_future.result(timeout + 5) if syn_future else Probe(UNAVAILABLE, "raw sockets not used")
    return dns, address, tcp, syn, tls, no_proxy


def _syn(prober: SynProber, address: str, port: int, timeout: float) -> Probe:
    started = time.monotonic()
    try:
        return prober.probe(address, port, timeout)
    except Exception as exc:  # a scapy surprise costs the SYN column, not the check
        return Probe(ERROR, f"SYN probe failed: {exc}", started, time.monotonic())


def _via_proxy(fqdn: str, settings: NetSettings,
               timeout: float) -> tuple[Probe, str | None, Probe, Probe, Probe, Probe]:
    """PRE-4: the proxy resolves and connects; this side neither resolves nor needs a direct path."""
    assert settings.proxy is not None
    by_proxy = skipped("resolved and connected by the proxy (PRE-4)")
    proxy, tunnel = proxy_tunnel(settings.proxy, fqdn, settings.https_port, timeout)
    if tunnel is None:
        return by_proxy, None, by_proxy, by_proxy, skipped("no tunnel"), proxy
    fresh = through_proxy(settings.proxy, fqdn, settings.https_port)
    first = [tunnel]

    def connect(t: float) -> socket.socket:  # the tunnel just opened first, fresh ones for a second handshake
        return first.pop() if first else fresh(t)

    tls = tls_handshake(connect, fqdn, settings.ca_bundle, timeout)
    return by_proxy, None, by_proxy, by_proxy, tls, proxy


def _captured_hosts(settings: NetSettings, results: list[FqdnResult]) -> set[str]:
    hosts = {r.address for r in results if r.address}
    if settings.resolver:
        hosts.add(settings.resolver[0])
    if settings.proxy:
        hosts.add(settings.proxy.host)
    return hosts
