"""The network between appliance and cloud (PRE-3, PRE-4): firewall rules and the proxy.

In a simulator lab the firewall and proxy are the netlab's, set through the control plane
(``/_sim/netlab/...``); on real gear they are the lab's own devices, which a person sets up (the
scenarios carry ``@manual``). Every change is undone after the scenario.
"""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, step, then

from harness.net import check

from .text import REGION, sentence, unq
from .world import World

NETCHECK_TIMEOUT_S = 1.0  # one probe's timeout: a dropped FQDN costs about this much, whatever the count

ACTIONS = {"drops": "drop", "rejects": "reject", "allows": "allow", "drop": "drop", "reject": "reject"}


def _firewall(world: World, fqdn: str, action: str) -> None:
    world.lab.control("POST", "/_sim/netlab/firewall", {"fqdn": fqdn, "port": 443, "action": action})


@step(sentence(r"the firewall <verb:drops|rejects|allows> HTTPS to {fqdn}"))
def firewall_rule(world: World, verb: str, fqdn: str) -> None:
    action = ACTIONS[verb]
    if action != "allow":
        world.need_control(f"a firewall rule that {verb} HTTPS (443) from the appliance to {unq(fqdn)}")
        world.on_teardown(f"open HTTPS to {unq(fqdn)} again", lambda: _firewall(world, unq(fqdn), "allow"))
    _firewall(world, unq(fqdn), action)


def _proxy_url(world: World) -> str:
    state: dict[str, Any] = world.lab.control("GET", "/_sim/netlab") or {}
    url = ((state.get("proxy") or {}).get("url")
           or ((world.lab.data.get("testbed") or {}).get("simulator") or {}).get("proxy_url"))
    if not url:
        raise LookupError("the lab has no proxy (netlab state and testbed name none)")
    return str(url)


@given("the appliance reaches the cloud through the lab proxy")
def use_proxy(world: World) -> None:
    world.need_control("the appliance configured to reach the cloud through the lab's HTTPS proxy")
    url = _proxy_url(world)
    world.lab.control("POST", f"/_sim/appliances/{world.device.name}/lab", {"proxy": url})
    world.on_teardown("no proxy on the appliance", lambda: world.lab.control(
        "POST", f"/_sim/appliances/{world.device.name}/lab", {"proxy": None}))
    log = world.lab.control("GET", "/_sim/log?service=netlab.proxy") or []
    world.proxy_log_since = _last_seq(log)


def _last_seq(log: Any) -> int:
    entries = log.get("entries", []) if isinstance(log, dict) else log
    seqs = [int(e.get("seq", e.get("id", 0)) or 0) for e in entries if isinstance(e, dict)]
    return max(seqs, default=0)


@step(sentence(r"the lab proxy denies {fqdn}"))
def proxy_denies(world: World, fqdn: str) -> None:
    world.lab.control("POST", "/_sim/netlab/proxy", {"deny": [unq(fqdn)]})
    world.on_teardown("the proxy allows everything again",
                      lambda: world.lab.control("POST", "/_sim/netlab/proxy", {"deny": []}))


@step("the lab proxy allows every destination again")
def proxy_allows(world: World) -> None:
    world.lab.control("POST", "/_sim/netlab/proxy", {"deny": []})


@then(sentence(r"the lab proxy carried a connection to {fqdn}"))
def proxy_carried(world: World, fqdn: str) -> None:
    log = world.lab.control("GET", f"/_sim/log?since={world.proxy_log_since}&service=netlab.proxy") or []
    entries = log.get("entries", []) if isinstance(log, dict) else log
    tunnels = [e for e in entries if isinstance(e, dict) and str(e.get("path", "")).startswith(unq(fqdn))
               and e.get("status") == 200]
    world.check(tunnels, f"a CONNECT tunnel to {unq(fqdn)}:443 through the proxy",
                [(e.get("path"), e.get("status")) for e in entries if isinstance(e, dict)], "lab proxy log")


@step(sentence(r"the lab's DNS does not resolve {fqdn}"))
def dns_unresolvable(world: World, fqdn: str) -> None:
    world.need_control(f"a resolver that has no answer for {unq(fqdn)}")
    world.on_teardown(f"the lab's DNS answers {unq(fqdn)} again", lambda: world.lab.control(
        "POST", "/_sim/netlab/dns", {"fqdn": unq(fqdn), "restore": True}))
    world.lab.control("POST", "/_sim/netlab/dns", {"fqdn": unq(fqdn), "answer": None})


@step(sentence(r"a middlebox intercepts TLS to {fqdn}"))
def tls_intercepted(world: World, fqdn: str) -> None:
    world.need_control(f"a TLS-intercepting middlebox in front of {unq(fqdn)}")
    world.on_teardown(f"no interception of {unq(fqdn)}", lambda: world.lab.control(
        "POST", "/_sim/netlab/intercept", {"fqdn": unq(fqdn), "enabled": False}))
    world.lab.control("POST", "/_sim/netlab/intercept", {"fqdn": unq(fqdn), "enabled": True})


@step(sentence(rf"I run the network check for the {REGION} region"))
def run_network_check(world: World, region: str) -> None:
    """The port-443 check of ``ctrlab netcheck``: DNS through the testbed's resolver, TCP, SYN, TLS."""
    world.netcheck = check(world.lab.data, region=region, timeout=NETCHECK_TIMEOUT_S)


@then(sentence(r"the network check reports {fqdn} as {verdict}"))
def network_check_verdict(world: World, fqdn: str, verdict: str) -> None:
    report = world.netcheck
    observed = report.verdict(unq(fqdn)).value if unq(fqdn) in report.fqdns else "not checked"
    world.check(observed == unq(verdict), f"{unq(fqdn)}: {unq(verdict)}", f"{unq(fqdn)}: {observed}\n"
                f"{report.table()}", "network check")


@then(sentence(r"the network check finds every FQDN of the region but {fqdn} reachable"))
def network_check_others_ok(world: World, fqdn: str) -> None:
    report = world.netcheck
    bad = [r.fqdn for r in report.failures if r.fqdn != unq(fqdn)]
    world.check(not bad, f"every FQDN but {unq(fqdn)} reachable on HTTPS 443", report.table(), "network check")


@then("the network check finds every FQDN of the region reachable, est.sco.cisco.com included")
def network_check_all_ok(world: World) -> None:
    report = world.netcheck
    world.check(report.ok and "est.sco.cisco.com" in report.fqdns,
                "every FQDN of the region and est.sco.cisco.com reachable on HTTPS 443", report.table(),
                "network check")
