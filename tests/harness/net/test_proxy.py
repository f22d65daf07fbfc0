"""PRE-4: with a proxy configured, reachability goes through the proxy (HTTP CONNECT), and the direct
path (DNS at this machine, TCP, SYN) is neither probed nor required."""

from __future__ import annotations

import pytest

from harness.net import Verdict, check
from harness.net.fqdns import proxy_remedy

from .support import EST, PROBE_TIMEOUT, RunningLab

# The lab's proxy gives up on a dropped target after at least 1 s (real) and answers 504: the probe
# must wait longer than that to hear it.
PROXY_PROBE_TIMEOUT = 3.0


def test_through_the_proxy_every_fqdn_is_reachable(lab: RunningLab) -> None:
    report = check(lab.with_network(proxy=lab.proxy_url), timeout=PROBE_TIMEOUT, attach=False)
    assert report.ok, report.table()
    for row in report.results:
        assert row.proxy.state == "tunnel" and row.tls.state == "verified"
        assert row.dns.state == row.tcp.state == row.syn.state == "skipped"  # the proxy resolves and connects
    assert lab.proxy_url.removeprefix("http://") in report.table()


def test_with_a_proxy_the_direct_path_is_not_required(lab: RunningLab) -> None:
    """A resolver that does not answer at all: irrelevant when the proxy resolves (PRE-4)."""
    testbed = lab.with_network(proxy=lab.proxy_url, resolver="127.0.0.1:9")
    report = check(testbed, timeout=PROBE_TIMEOUT, attach=False)
    assert report.ok, report.table()


def test_a_proxy_deny_list_is_proxy_refused_with_the_pre4_remedy(lab: RunningLab) -> None:
    lab.netlab("/proxy", {"deny": ["api-sse.cisco.com"]})
    report = check(lab.with_network(proxy=lab.proxy_url), timeout=PROBE_TIMEOUT, attach=False)
    row = report.result("api-sse.cisco.com")
    assert row.verdict is Verdict.PROXY_REFUSED
    assert row.proxy.detail.startswith("403 Forbidden")
    assert row.remedy == proxy_remedy("api-sse.cisco.com", lab.proxy_url, row.proxy.detail)
    assert "only when not using a proxy server" in row.remedy
    assert report.verdict(EST) is Verdict.REACHABLE


def test_proxy_authentication(lab: RunningLab, monkeypatch: pytest.MonkeyPatch) -> None:
    lab.netlab("/proxy", {"auth": {"username": "lab", "password": "pr0xy-secret"}})
    without = check(lab.with_network(proxy=lab.proxy_url), timeout=PROBE_TIMEOUT, attach=False)
    assert {r.verdict for r in without.results} == {Verdict.PROXY_REFUSED}
    assert without.result(EST).proxy.detail.startswith("407")

    monkeypatch.setenv("NETCHECK_PROXY_PASSWORD", "pr0xy-secret")
    url = lab.proxy_url.replace("http://", "http://lab:%ENV{NETCHECK_PROXY_PASSWORD}@")
    report = check(lab.with_network(proxy=url), timeout=PROBE_TIMEOUT, attach=False)
    assert report.ok, report.table()
    assert "pr0xy-secret" not in report.table() and "pr0xy-secret" not in str(report.to_dict())


def test_a_target_dropped_behind_the_proxy_is_proxy_refused(kernel_lab: RunningLab) -> None:
    kernel_lab.firewall(EST, "drop")
    # The proxy gives up on the dropped target after its own connect timeout (10 real seconds by default, as a
    # proxy would): shorter than the probe's here, so the probe sees the proxy's 504 rather than its own timeout.
    kernel_lab.netlab("/proxy", {"connect_timeout": 1.0})
    report = check(kernel_lab.with_network(proxy=kernel_lab.proxy_url), timeout=PROXY_PROBE_TIMEOUT,
                   attach=False)
    row = report.result(EST)
    assert row.verdict is Verdict.PROXY_REFUSED
    assert row.proxy.detail.startswith("504")
    assert report.verdict("api-sse.cisco.com") is Verdict.REACHABLE


def test_an_unreachable_proxy_is_proxy_refused(lab: RunningLab) -> None:
    report = check(lab.with_network(proxy="http://127.0.0.1:9"), timeout=PROBE_TIMEOUT, attach=False)
    assert {r.verdict for r in report.results} == {Verdict.PROXY_REFUSED}
    assert "refused the connection" in report.result(EST).proxy.detail


def test_interception_is_seen_through_the_proxy_tunnel(lab: RunningLab) -> None:
    lab.netlab("/intercept", {"fqdn": EST, "enabled": True})
    report = check(lab.with_network(proxy=lab.proxy_url), timeout=PROBE_TIMEOUT, attach=False)
    assert report.verdict(EST) is Verdict.INTERCEPTED
    assert "intercepting proxy" in report.result(EST).tls.detail
