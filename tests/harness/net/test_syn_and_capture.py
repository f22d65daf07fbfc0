"""The raw SYN probe (open / closed / filtered), the packet capture, the report attachments, and what
happens where raw sockets are not allowed or the lab emulates drops in userspace."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.net import Verdict, check

from .support import EST, PROBE_TIMEOUT, RunningLab

REPO = Path(__file__).resolve().parents[3]
SUBPROCESS_TIMEOUT = 60.0


def test_syn_probe_tells_open_closed_and_filtered_apart(kernel_lab: RunningLab, raw_allowed: None) -> None:
    kernel_lab.firewall("api-sse.cisco.com", "drop")
    kernel_lab.firewall(EST, "reject")
    report = check(kernel_lab.testbed, fqdns=["api-sse.cisco.com", "api.eu.sse.itd.cisco.com", EST],
                   timeout=PROBE_TIMEOUT, attach=False)
    states = {r.fqdn: (r.syn.state, r.syn.detail) for r in report.results}
    assert states["api.eu.sse.itd.cisco.com"] == ("open", "SYN-ACK")
    assert states[EST] == ("closed", "RST")
    assert states["api-sse.cisco.com"][0] == "filtered"
    assert "L3RawSocket" in report.syn_note


def test_a_syn_probe_waiting_for_an_answer_does_not_dissect_other_traffic(raw_allowed: None,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe's socket sees every packet on the host; while it waits out a silent drop, only packets that
    could answer our SYN (the target's address and our source port in their bytes) reach scapy's dissector,
    however busy the host is (another xdist worker's traffic on lo)."""
    from scapy.supersocket import L3RawSocket

    from harness.net.syn import SynProber

    dissected = _count_dissections(monkeypatch, L3RawSocket)
    sent, done = 0, threading.Event()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as noise:
        sink.bind(("127.0.0.1", 0))

        def make_noise() -> None:
            nonlocal sent
            while not done.is_set():
                noise.sendto(b"x" * 64, sink.getsockname())
                sent += 1
                done.wait(0.001)

        thread = threading.Thread(target=make_noise, daemon=True)
        thread.start()
        sock = L3RawSocket()
        try:  # a SYN that was never answered (a drop beyond this host): the probe waits out its timeout
            started = time.monotonic()
            probe = SynProber()._await(sock, ("127.0.0.1", 40000), ("127.0.0.9", 443), 1, started + PROBE_TIMEOUT,
                                       started)
        finally:
            sock.close()
            done.set()
            thread.join(5)
    assert probe.state == "filtered"
    assert sent > 100 and dissected() == 0, (sent, dissected())


def test_without_libpcap_the_capture_does_not_dissect_traffic_its_filter_refuses(
        raw_allowed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python filter runs after scapy's dissector; a packet that holds none of the filter's ports in its
    bytes (another process's traffic on lo) never gets that far."""
    from scapy.arch.linux import L2Socket

    from harness.net.capture import Capture
    from harness.net.settings import NetSettings

    monkeypatch.setattr("harness.net.capture._compiles", lambda expression, iface: False)
    dissected = _count_dissections(monkeypatch, L2Socket)
    capture, note = Capture.start(NetSettings(resolver=("127.0.0.1", 5353)))
    assert capture is not None and "Python filter" in note, note
    sent = 0
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as noise:
            sink.bind(("127.0.0.1", 40001))
            noise.bind(("127.0.0.1", 40002))
            sink.settimeout(5)
            for _ in range(300):
                noise.sendto(b"x" * 64, sink.getsockname())
                sink.recv(100)  # it went through lo, past the capture
                sent += 1
    finally:
        capture.stop(["127.0.0.1"])
    assert dissected() == 0, (sent, dissected())


@pytest.mark.parametrize("bpf", [True, False], ids=["bpf-if-libpcap", "python-filter"])
def test_our_kernels_rst_does_not_turn_open_into_closed(lab: RunningLab, raw_allowed: None, tmp_path: Path,
                                                        bpf: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the target's SYN-ACK our kernel sends its own RST (it knows no such connection); the
    capture shows it, and the probe still says open. With or without libpcap to compile the BPF."""
    from scapy.layers.inet import IP, TCP
    from scapy.utils import rdpcap

    if not bpf:
        monkeypatch.setattr("harness.net.capture._compiles", lambda expression, iface: False)
    pcap = tmp_path / "probes.pcap"
    report = check(lab.testbed, timeout=PROBE_TIMEOUT, pcap=pcap, attach=False)
    assert report.ok, report.table()
    if not bpf:
        assert "Python filter" in report.capture_note
    assert report.pcap == pcap and report.packets
    packets = rdpcap(str(pcap))
    for row in report.results:
        assert row.syn.state == "open"
        to_target = [p for p in packets if TCP in p and p[IP].dst == row.address]
        assert any(p[TCP].flags == "S" for p in to_target)  # the probes' SYNs are in the capture
        assert any(p[TCP].flags == "R" for p in to_target)  # and our kernel's bare RST after the SYN-ACK
        assert any(p[IP].src == row.address and p[TCP].flags == "SA" for p in packets if TCP in p)
    kept = {lab.resolver[0], *(r.address for r in report.results)}
    assert all(p[IP].src in kept or p[IP].dst in kept for p in packets)  # nothing of other labs


def test_inside_a_test_the_table_json_and_pcap_are_attached(lab: RunningLab, raw_allowed: None,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import allure

    attached: list[tuple[str, str, Any]] = []

    def attach(body: Any, name: str, attachment_type: Any = None, extension: Any = None) -> None:
        attached.append((name, str(attachment_type), body))

    monkeypatch.setattr(allure, "attach", attach)
    report = check(lab.testbed, timeout=PROBE_TIMEOUT)  # attach defaults to "inside a pytest test"
    assert [name for name, _, _ in attached] == [
        "netcheck (harness)", "netcheck (harness) json", "netcheck probes (harness)"]
    assert "api-sse.cisco.com" in attached[0][2]
    assert json.loads(attached[1][2])["ok"] is True
    assert "pcap" in attached[2][1].lower() and attached[2][2][:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
    assert report.pcap is None  # the temporary capture file is gone once attached


def test_without_raw_sockets_the_check_says_so_and_connects(lab: RunningLab) -> None:
    report = check(lab.testbed, timeout=PROBE_TIMEOUT, raw=False, attach=False)
    assert report.ok
    assert "TCP connect only" in report.syn_note and "TCP connect only" in report.table()
    assert all(r.syn.state == "unavailable" and r.tcp.state == "open" for r in report.results)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_without_cap_net_raw_the_run_says_so_and_falls_back_to_connect(lab: RunningLab, tmp_path: Path) -> None:
    """The command line in a process without CAP_NET_RAW (as an ordinary user runs it): no SYN probe,
    no capture, said plainly; the check still answers from TCP and TLS."""
    testbed = lab.variant(tmp_path)
    out = subprocess.run(
        ["setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw",
         sys.executable, "-m", "harness.net", "--testbed", str(testbed), "--timeout", str(PROBE_TIMEOUT),
         "--pcap", str(tmp_path / "never-written.pcap")],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "raw sockets not allowed here (needs root or CAP_NET_RAW)" in out.stdout
    assert "TCP connect only" in out.stdout and "no capture" in out.stdout
    assert not (tmp_path / "never-written.pcap").exists()


def test_emulated_drop_completes_the_handshake_and_is_still_filtered(emulated_lab: RunningLab) -> None:
    """Without a kernel firewall the lab's black hole accepts the connection and never answers: the
    TLS handshake times out, which is the same verdict (and remedy) as a dropped SYN."""
    state = emulated_lab.netlab()
    assert state["firewall"]["drop"] == "emulated"
    emulated_lab.firewall("api-sse.cisco.com", "drop")
    report = check(emulated_lab.testbed, timeout=PROBE_TIMEOUT, attach=False)
    row = report.result("api-sse.cisco.com")
    assert row.verdict is Verdict.FILTERED
    assert (row.tcp.state, row.tls.state) == ("open", "timeout")
    assert report.verdict(EST) is Verdict.REACHABLE


def test_emulated_reject_is_refused(emulated_lab: RunningLab) -> None:
    emulated_lab.firewall(EST, "reject")
    report = check(emulated_lab.testbed, timeout=PROBE_TIMEOUT, attach=False)
    assert report.verdict(EST) is Verdict.REFUSED


def test_the_json_report_has_every_probe(lab: RunningLab) -> None:
    data = check(lab.testbed, timeout=PROBE_TIMEOUT, raw=False, attach=False).to_dict()
    json.dumps(data)  # serialisable as it is
    row = data["results"][0]
    assert set(row) >= {"fqdn", "address", "verdict", "remedy", "dns", "tcp", "syn", "tls", "proxy"}
    assert data["ok"] is True and data["region"] == "nam"


def _count_dissections(monkeypatch: pytest.MonkeyPatch, kind: Any) -> Callable[[], int]:
    """Counts the calls of a scapy socket class's ``recv`` (where scapy dissects a packet)."""
    calls = 0
    recv = kind.recv

    def counting_recv(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return recv(self, *args, **kwargs)

    monkeypatch.setattr(kind, "recv", counting_recv)
    return lambda: calls
