"""The network check against the running lab on loopback: every verdict, from a real fault set on the
lab's control plane and observed over DNS, TCP, raw SYN and TLS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.net import Verdict, check, required_fqdns
from harness.net.__main__ import main as netcheck_main
from harness.net.fqdns import firewall_remedy

from .support import EST, PROBE_TIMEOUT, REGION_FQDN, RunningLab


@pytest.mark.parametrize("region", ["nam", "eu", "apjc"])
def test_healthy_lab_exits_0_and_lists_the_region_fqdns(lab: RunningLab, region: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    code = netcheck_main(["--testbed", str(lab.testbed_path), "--region", region,
                          "--timeout", str(PROBE_TIMEOUT), "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    report = json.loads(out.read_text())
    assert [r["fqdn"] for r in report["results"]] == [REGION_FQDN[region], EST]
    assert all(r["verdict"] == "reachable" for r in report["results"])
    for fqdn in (REGION_FQDN[region], EST):
        assert fqdn in printed
    for other in set(REGION_FQDN.values()) - {REGION_FQDN[region]}:
        assert other not in printed  # another region's FQDN is not required (PRE-3)
    for column in ("FQDN", "address", "DNS", "TCP", "SYN", "TLS", "proxy", "verdict", "remedy"):
        assert column in printed


def test_a_rejected_fqdn_is_refused_and_exit_is_1(lab: RunningLab, capsys: pytest.CaptureFixture[str]) -> None:
    lab.firewall(EST, "reject")
    code = netcheck_main(["--testbed", str(lab.testbed_path), "--timeout", str(PROBE_TIMEOUT)])
    printed = capsys.readouterr().out
    assert code == 1
    assert firewall_remedy(EST, lab.https_port) in printed
    report = check(lab.testbed, timeout=PROBE_TIMEOUT, attach=False)
    assert report.verdict(EST) is Verdict.REFUSED
    assert report.verdict("api-sse.cisco.com") is Verdict.REACHABLE
    assert report.result(EST).tcp.state == "refused"


def test_a_dropped_fqdn_is_silently_dropped(kernel_lab: RunningLab) -> None:
    kernel_lab.firewall("api-sse.cisco.com", "drop")
    report = check(kernel_lab.testbed, timeout=PROBE_TIMEOUT, attach=False)
    assert not report.ok
    row = report.result("api-sse.cisco.com")
    assert row.verdict is Verdict.FILTERED
    assert row.tcp.state == "timeout"
    assert row.remedy == ("Open HTTPS (in and out) port 443 on the firewall for api-sse.cisco.com "
                          "(applicable for Americas users only)" + _port_note(kernel_lab))
    assert report.verdict(EST) is Verdict.REACHABLE
    assert [r.fqdn for r in report.failures] == ["api-sse.cisco.com"]


def test_an_unresolvable_fqdn_has_no_dns_answer(lab: RunningLab) -> None:
    lab.netlab("/dns", {"fqdn": EST, "answer": None})
    report = check(lab.testbed, timeout=PROBE_TIMEOUT, attach=False)
    row = report.result(EST)
    assert row.verdict is Verdict.NO_DNS
    assert row.dns.state == "NXDOMAIN"
    assert row.address is None and row.tcp.state == "skipped"
    assert report.verdict("api-sse.cisco.com") is Verdict.REACHABLE


def test_tls_interception_is_named_with_its_issuer(lab: RunningLab) -> None:
    lab.netlab("/intercept", {"fqdn": "api-sse.cisco.com", "enabled": True})
    report = check(lab.testbed, timeout=PROBE_TIMEOUT, attach=False)
    row = report.result("api-sse.cisco.com")
    assert row.verdict is Verdict.INTERCEPTED
    assert row.tcp.state == "open"  # the path is open: it is the certificate that is wrong
    assert "intercepting proxy" in row.tls.detail  # the issuer, as the rogue certificate names it
    assert "intercepting proxy" in row.remedy
    assert report.verdict(EST) is Verdict.REACHABLE


def test_probes_run_concurrently(kernel_lab: RunningLab) -> None:
    """Every FQDN of every region dropped: the probes overlap, so the check takes about one timeout."""
    everything = [*REGION_FQDN.values(), EST]
    for fqdn in everything:
        kernel_lab.firewall(fqdn, "drop")
    report = check(kernel_lab.testbed, fqdns=everything, timeout=PROBE_TIMEOUT, raw=False, attach=False)
    assert all(r.verdict is Verdict.FILTERED for r in report.results)
    # By structure: every probe had started before the first one finished ...
    assert max(r.started for r in report.results) < min(r.ended for r in report.results)
    # ... and, generously, far less than the 4 timeouts one-after-the-other would take.
    assert report.elapsed < 2.5 * PROBE_TIMEOUT, report.table()


def test_the_required_fqdns_are_the_documents(lab: RunningLab) -> None:
    assert required_fqdns("nam") == ["api-sse.cisco.com", EST]
    assert required_fqdns("EU") == ["api.eu.sse.itd.cisco.com", EST]
    assert required_fqdns("apjc") == ["api.apj.sse.itd.cisco.com", EST]
    with pytest.raises(ValueError, match="unknown region"):
        required_fqdns("mars")
    assert firewall_remedy("api-sse.cisco.com") == (
        "Open HTTPS (in and out) port 443 on the firewall for api-sse.cisco.com (applicable for Americas users only)")


def _port_note(lab: RunningLab) -> str:
    return "" if lab.https_port == 443 else f"; this lab serves HTTPS on port {lab.https_port}"
