"""The firewall per (FQDN, port): real TCP connects and TLS handshakes see allow, reject and drop."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.loop import BackgroundLoop
from virtual_appliances.netlab import nft

from .conftest import SITES
from .support import SHORT, TIMEOUT, Lab, build_lab, client_context, stop_lab, tcp_probe, tls_handshake

FQDN = "api-sse.cisco.com"


def _rules(lab: Lab) -> list[dict[str, object]]:
    return lab.netlab.state()["firewall"]["rules"]  # type: ignore[no-any-return]


def test_allow_is_the_default(lab: Lab) -> None:
    assert _rules(lab) == []
    for fqdn in SITES:
        assert tcp_probe(lab.addr(fqdn), lab.port) == "open"


def test_reject_closes_the_listener_and_allow_reopens_it(lab: Lab) -> None:
    state = lab.post("/firewall", {"fqdn": FQDN, "action": "reject"})  # port defaults to 443
    assert state["firewall"]["rules"] == [{"fqdn": FQDN, "port": lab.port, "action": "reject"}]
    assert tcp_probe(lab.addr(FQDN), lab.port) == "refused"
    assert tcp_probe(lab.addr("est.sco.cisco.com"), lab.port) == "open"  # per FQDN, not global

    lab.post("/firewall", {"fqdn": FQDN, "port": 443, "action": "allow"})
    assert tcp_probe(lab.addr(FQDN), lab.port) == "open"
    tls_handshake(lab.addr(FQDN), lab.port, FQDN, client_context(lab.ca))


def test_reset_reopens_everything(lab: Lab) -> None:
    for fqdn in ("api-sse.cisco.com", "est.sco.cisco.com"):
        lab.post("/firewall", {"fqdn": fqdn, "action": "reject"})
    lab.netlab.reset()  # from this (non-loop) thread, as a sync caller would
    assert _rules(lab) == []
    for fqdn in ("api-sse.cisco.com", "est.sco.cisco.com"):
        assert tcp_probe(lab.addr(fqdn), lab.port) == "open"


def test_kernel_drop_black_holes_the_syn(kernel_lab: Lab) -> None:
    lab = kernel_lab
    state = lab.post("/firewall", {"fqdn": FQDN, "action": "drop"})
    table = state["firewall"]["table"].split()[-1]
    assert state["firewall"]["drop"] == "nftables"
    assert f"ip daddr {lab.addr(FQDN)} tcp dport {lab.port} drop" in _nft_table(table)
    assert tcp_probe(lab.addr(FQDN), lab.port, timeout=SHORT) == "timeout"
    assert tcp_probe(lab.addr("est.sco.cisco.com"), lab.port) == "open"

    lab.post("/firewall", {"fqdn": FQDN, "action": "allow"})
    assert table not in nft.lab_tables()  # no drop left: no table
    assert tcp_probe(lab.addr(FQDN), lab.port) == "open"


def test_kernel_drop_on_another_port_and_reset_removes_the_table(kernel_lab: Lab) -> None:
    lab = kernel_lab
    lab.post("/firewall", {"fqdn": FQDN, "port": 8443, "action": "drop"})
    lab.post("/firewall", {"fqdn": "est.sco.cisco.com", "action": "drop"})
    table = lab.netlab.state()["firewall"]["table"].split()[-1]
    rules = _nft_table(table)
    assert f"ip daddr {lab.addr(FQDN)} tcp dport 8443 drop" in rules
    assert f"ip daddr {lab.addr('est.sco.cisco.com')} tcp dport {lab.port} drop" in rules
    assert tcp_probe(lab.addr(FQDN), lab.port) == "open"  # 443 untouched
    lab.netlab.reset()
    assert table not in nft.lab_tables()
    assert tcp_probe(lab.addr("est.sco.cisco.com"), lab.port) == "open"


def test_emulated_drop_completes_tcp_but_never_answers(emulated_lab: Lab) -> None:
    lab = emulated_lab
    state = lab.post("/firewall", {"fqdn": FQDN, "action": "drop"})
    assert state["firewall"]["drop"] == "emulated" and state["firewall"]["table"] is None
    assert "handshake completes" in state["firewall"]["note"]
    with pytest.raises(TimeoutError):
        tls_handshake(lab.addr(FQDN), lab.port, FQDN, client_context(lab.ca), timeout=SHORT)

    # A connection swallowed by the hole is cut when the firewall opens, not left hanging.
    with socket.create_connection((lab.addr(FQDN), lab.port), timeout=TIMEOUT) as held:
        lab.post("/firewall", {"fqdn": FQDN, "action": "allow"})
        assert _closed_by_peer(held)
    tls_handshake(lab.addr(FQDN), lab.port, FQDN, client_context(lab.ca))


def test_emulated_drop_on_a_port_nothing_listens_on(emulated_lab: Lab) -> None:
    lab = emulated_lab
    assert tcp_probe(lab.addr(FQDN), 8443) == "refused"
    lab.post("/firewall", {"fqdn": FQDN, "port": 8443, "action": "drop"})
    with socket.create_connection((lab.addr(FQDN), 8443), timeout=TIMEOUT) as sock:
        sock.settimeout(SHORT)
        sock.sendall(b"hello?")
        with pytest.raises(TimeoutError):
            sock.recv(1)
    lab.netlab.reset()
    assert tcp_probe(lab.addr(FQDN), 8443) == "refused"


def test_emulated_reject_then_drop_then_allow(emulated_lab: Lab) -> None:
    lab, ctx = emulated_lab, client_context(emulated_lab.ca)
    lab.post("/firewall", {"fqdn": FQDN, "action": "reject"})
    assert tcp_probe(lab.addr(FQDN), lab.port) == "refused"
    lab.post("/firewall", {"fqdn": FQDN, "action": "drop"})
    with pytest.raises(TimeoutError):
        tls_handshake(lab.addr(FQDN), lab.port, FQDN, ctx, timeout=SHORT)
    lab.post("/firewall", {"fqdn": FQDN, "action": "allow"})
    tls_handshake(lab.addr(FQDN), lab.port, FQDN, ctx)


def test_port_443_means_the_labs_https_port(bg_loop: BackgroundLoop, tmp_path: Path) -> None:
    lab = build_lab(bg_loop, tmp_path, sites=[FQDN], https_port=_free_port(), firewall_mode="emulated")
    try:
        state = lab.post("/firewall", {"fqdn": FQDN, "port": 443, "action": "reject"})
        assert state["firewall"]["rules"] == [{"fqdn": FQDN, "port": lab.port, "action": "reject"}]
        assert tcp_probe(lab.addr(FQDN), lab.port) == "refused"
    finally:
        stop_lab(lab)


def test_stop_leaves_no_kernel_table_and_sweeps_dead_labs(bg_loop: BackgroundLoop, tmp_path: Path,
                                                          kernel_lab: Lab) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, timeout=TIMEOUT, check=True)
    stale = f"ctrlab_{dead.stdout.strip()}_deadbeef"
    subprocess.run(["nft", "add", "table", "inet", stale], timeout=TIMEOUT, check=True)

    lab = build_lab(bg_loop, tmp_path, sites=[FQDN])
    assert stale not in nft.lab_tables()  # a lab whose process died is swept at start
    lab.post("/firewall", {"fqdn": FQDN, "action": "drop"})
    table = lab.netlab.state()["firewall"]["table"].split()[-1]
    assert table in nft.lab_tables()
    stop_lab(lab)
    assert table not in nft.lab_tables()
    assert kernel_lab.netlab.state()["firewall"]["table"].split()[-1] not in nft.lab_tables()


def test_tls_to_a_rejected_site_fails_fast(lab: Lab) -> None:
    lab.post("/firewall", {"fqdn": FQDN, "action": "reject"})
    with pytest.raises(ConnectionRefusedError):
        tls_handshake(lab.addr(FQDN), lab.port, FQDN, ssl.create_default_context(cafile=str(lab.ca.bundle)))


def _closed_by_peer(sock: socket.socket) -> bool:
    """FIN or RST, either way the peer ended it (RST when the kernel still held it in the backlog)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _nft_table(table: str) -> str:
    return subprocess.run(["nft", "list", "table", "inet", table], capture_output=True, text=True,
                          timeout=TIMEOUT, check=True).stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
