"""The lab's namespace mode (``python -m virtual_appliances.lab --netns``, ``NetLab(namespaces=True)``):
the appliance resolves and connects from its own namespace through a firewall namespace whose nftables
rules carry the netlab's firewall policy, and the network check probes from the appliance's namespace.

Every socket to 198.18.0.0/15 here is created inside a lab namespace (the connector's socket factory,
``ip netns exec``); the guard test checks that the harness refuses to probe those addresses from elsewhere.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from unittest import mock

import aiohttp
import pytest
from aiohttp import web

from harness.net import NetSettings, SettingsError, Verdict, check
from tests.support.running_lab import running_lab
from virtual_appliances import lab as lab_module
from virtual_appliances.common.clock import SimClock
from virtual_appliances.common.pki import LabCA
from virtual_appliances.common.redact import Redactor
from virtual_appliances.common.reqlog import RequestLog
from virtual_appliances.netlab import Action, NetLab, namespaces
from virtual_appliances.netlab.client import lab_session
from virtual_appliances.netlab.namespaces import APPLIANCE_ADDRESS, lab_namespaces

ROOT = Path(__file__).resolve().parents[3]
FEATURES_TIMEOUT_S = 600
PROBE_TIMEOUT_S = 1.0
needs_namespaces = pytest.mark.skipif(not namespaces.available(),
                                      reason="namespace mode needs root with the ip and nft commands")

SITE = "api-sse.cisco.com"


def test_the_lab_refuses_netns_without_root_ip_and_nft(capsys: pytest.CaptureFixture[str]) -> None:
    with mock.patch.object(lab_module, "namespaces_available", return_value=False), pytest.raises(SystemExit):
        lab_module.parse_args(["--netns", "--testbed-out", "unused.yaml"])
    assert "--netns needs root" in capsys.readouterr().err


def test_the_check_never_probes_a_namespace_lab_address_from_outside_its_namespaces() -> None:
    # Raised before any socket exists: from here a packet to 198.19.x would leave by the default route.
    with pytest.raises(SettingsError, match="not in a lab namespace"):
        check(NetSettings(resolver=("198.19.0.2", 53)), timeout=PROBE_TIMEOUT_S, attach=False)


def _netlab(ca: LabCA) -> NetLab:
    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"peer": request.remote})

    app = web.Application()
    app.router.add_get("/", whoami)
    lab = NetLab(ca, RequestLog(Redactor()), Redactor(), SimClock(), proxy=False, namespaces=True)
    lab.add_site(SITE, app)
    return lab


async def _get(lab: NetLab, ca: LabCA) -> str:
    assert lab.appliance_netns is not None
    async with lab_session(lab.appliance_resolver, ca.client_context(), timeout=PROBE_TIMEOUT_S, proxy=None,
                           netns=lab.appliance_netns) as session, session.get(f"https://{SITE}/") as reply:
        return str((await reply.json())["peer"])


@needs_namespaces
def test_the_appliance_reaches_the_cloud_through_the_firewall_namespace(tmp_path: Path) -> None:
    async def scenario() -> None:
        ca = LabCA(tmp_path)
        lab = _netlab(ca)
        await lab.start()
        try:
            state = lab.state()
            assert state["mode"] == "namespaces"
            assert state["namespaces"]["resolver"] == {"host": "198.19.0.2", "port": 53}
            # The site sees the appliance namespace's address: routed through the firewall namespace.
            assert await _get(lab, ca) == APPLIANCE_ADDRESS

            lab.set_firewall(SITE, lab.https_port, Action.REJECT)
            with pytest.raises(aiohttp.ClientConnectorError):  # the firewall's TCP reset
                await _get(lab, ca)
            lab.set_firewall(SITE, lab.https_port, Action.DROP)
            with pytest.raises((asyncio.TimeoutError, aiohttp.ClientConnectorError)):  # the SYN vanishes
                await _get(lab, ca)
            lab.reset()
            assert await _get(lab, ca) == APPLIANCE_ADDRESS

            lab.set_dns(SITE, None)
            with pytest.raises(aiohttp.ClientConnectorError):  # NXDOMAIN from the cloud namespace's DNS
                await _get(lab, ca)
            names = lab.state()["namespaces"]
            mine = {names["appliance"], names["firewall"], names["cloud"]}
            assert mine <= set(lab_namespaces())
        finally:
            await lab.stop()
        assert not mine & set(lab_namespaces()), "stop() removes the namespaces"

    asyncio.run(scenario())


@needs_namespaces
def test_the_firewall_scenarios_pass_on_a_namespace_lab(tmp_path: Path) -> None:
    """CI's namespace mode: features/firewall_proxy.feature (tag @network) against ``lab --netns``."""
    with running_lab(tmp_path, "--netns") as testbed:
        simulator = testbed["testbed"]["simulator"]
        appliance_ns = simulator["appliance_netns"]
        assert appliance_ns in lab_namespaces()
        assert simulator["appliance_network"] == {"resolver": "198.19.0.2:53", "https_port": 443}

        report = check(tmp_path / "testbed.yaml", timeout=PROBE_TIMEOUT_S, attach=False)
        assert report.vantage == f"appliance namespace {appliance_ns}", report.table()
        assert report.ok and report.result(SITE).address == "198.19.0.11", report.table()

        run = subprocess.run(
            [sys.executable, "-m", "pytest", "features", "-q", "-p", "no:cacheprovider", "--testbed",
             str(tmp_path / "testbed.yaml"), "--alluredir", str(tmp_path / "allure"), "-m", "network"],
            cwd=ROOT, capture_output=True, text=True, timeout=FEATURES_TIMEOUT_S, check=False)
        summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
        assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
        assert "failed" not in summary and int(summary.split(" passed")[0].split()[-1]) >= 17, summary
    assert appliance_ns not in lab_namespaces(), "the lab removes its namespaces when it stops"


@needs_namespaces
def test_a_drop_in_the_firewall_namespace_is_a_filtered_verdict_from_the_appliance(tmp_path: Path) -> None:
    import requests

    with running_lab(tmp_path, "--netns") as testbed:
        control = testbed["testbed"]["simulator"]["control_url"]
        requests.post(f"{control}/_sim/netlab/firewall", json={"fqdn": SITE, "port": 443, "action": "drop"},
                      timeout=5).raise_for_status()
        report = check(tmp_path / "testbed.yaml", timeout=PROBE_TIMEOUT_S, attach=False)
    assert report.verdict(SITE) is Verdict.FILTERED, report.table()
    assert report.result(SITE).syn.state == "filtered", report.table()  # the SYN never came back
