"""Namespace mode (root): the check runs in the appliance namespace, crosses a real routed link and a
real nftables firewall in its own namespace, and reaches DNS and TLS sites in the cloud namespace.
A drop is a SYN that never arrives, a reject an RST the firewall sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from virtual_appliances.netlab import namespaces

from .nslab import NamespaceLab
from .support import EST, PROBE_TIMEOUT, REGION_FQDN

pytestmark = pytest.mark.skipif(not NamespaceLab.available(), reason="namespace mode needs root, ip and nft")

FQDNS = [*REGION_FQDN.values(), EST]


@pytest.fixture(scope="module")
def module_nslab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NamespaceLab]:
    lab = NamespaceLab(tmp_path_factory.mktemp("netcheck-ns"), FQDNS)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()  # the namespaces go, whatever the tests did


@pytest.fixture
def nslab(module_nslab: NamespaceLab) -> Iterator[NamespaceLab]:
    module_nslab.reset()
    yield module_nslab
    module_nslab.reset()


def test_healthy_namespace_lab_exits_0(nslab: NamespaceLab, tmp_path: Path) -> None:
    from scapy.utils import rdpcap

    run = nslab.netcheck(PROBE_TIMEOUT, pcap=tmp_path / "ns.pcap")
    assert run.returncode == 0, run.stdout
    assert [r["fqdn"] for r in run.report["results"]] == ["api-sse.cisco.com", EST]
    assert run.row(EST)["address"] == nslab.addresses[EST]  # the cloud namespace's address, from its DNS
    assert run.row(EST)["syn"]["state"] == "open"
    assert "capture on a0" in run.stdout  # the appliance's link, not lo
    assert len(rdpcap(str(tmp_path / "ns.pcap"))) > 0


def test_a_firewall_drop_is_a_syn_that_never_comes_back(nslab: NamespaceLab, tmp_path: Path) -> None:
    from scapy.layers.inet import IP, TCP
    from scapy.utils import rdpcap

    nslab.firewall("api-sse.cisco.com", "drop")
    run = nslab.netcheck(PROBE_TIMEOUT, pcap=tmp_path / "drop.pcap")
    assert run.returncode == 1
    row = run.row("api-sse.cisco.com")
    assert row["verdict"] == "silently dropped (filtered)"
    assert row["tcp"]["state"] == "timeout"
    assert row["syn"]["state"] == "filtered" and "no answer" in row["syn"]["detail"]  # not a local EPERM
    assert run.verdict(EST) == "reachable"
    address = nslab.addresses["api-sse.cisco.com"]
    packets = [p for p in rdpcap(str(tmp_path / "drop.pcap")) if TCP in p]
    assert any(p[IP].dst == address and p[TCP].flags == "S" for p in packets)
    assert not any(p[IP].src == address for p in packets)  # nothing ever came back


def test_a_firewall_reject_is_refused_by_an_rst(nslab: NamespaceLab) -> None:
    nslab.firewall(EST, "reject")
    run = nslab.netcheck(PROBE_TIMEOUT)
    row = run.row(EST)
    assert row["verdict"] == "refused"
    assert (row["tcp"]["state"], row["syn"]["state"]) == ("refused", "closed")
    assert "Open HTTPS (in and out) port 443 on the firewall for est.sco.cisco.com" in row["remedy"]


def test_unresolvable_and_intercepted_in_the_cloud_namespace(nslab: NamespaceLab) -> None:
    nslab.dns(EST, None)
    nslab.intercept("api.eu.sse.itd.cisco.com", True)
    run = nslab.netcheck(PROBE_TIMEOUT, "--region", "eu")
    assert run.verdict(EST) == "no DNS answer"
    assert run.verdict("api.eu.sse.itd.cisco.com") == "TLS intercepted"
    assert "intercepting proxy" in run.row("api.eu.sse.itd.cisco.com")["tls"]["detail"]


def test_dropped_fqdns_are_probed_at_once(nslab: NamespaceLab) -> None:
    for fqdn in ("api.apj.sse.itd.cisco.com", EST):
        nslab.firewall(fqdn, "drop")
    run = nslab.netcheck(PROBE_TIMEOUT, "--region", "apjc")
    rows = run.report["results"]
    assert {r["verdict"] for r in rows} == {"silently dropped (filtered)"}
    # By structure, not by the clock: both probes had started before either finished.
    assert max(r["started_at"] for r in rows) < min(r["ended_at"] for r in rows)


def test_the_namespaces_are_gone_after_stop(tmp_path: Path) -> None:
    lab = NamespaceLab(tmp_path, [EST])
    with lab:
        names = set(lab.topology.ns.all())
        assert names <= set(namespaces.lab_namespaces())
    assert not names & set(namespaces.lab_namespaces())
