"""The network between appliance and cloud (PRE-3, PRE-4): firewall rules and the proxy.

The firewall, the lab's DNS and the proxy are set through the lab control (``harness.labcontrol``): the
simulators' netlab, or on real gear the commands the testbed's ``deviations.lab_actions`` give (else the
scenario names the manual set-up). Every change is undone after the scenario.
"""

from __future__ import annotations

from pytest_bdd import given, step, then

from harness.net import check

from .text import REGION, lab_wide, sentence
from .world import World

ACTIONS = {"drops": "drop", "rejects": "reject", "allows": "allow", "drop": "drop", "reject": "reject"}


@step(lab_wide(sentence(r"the firewall <verb:drops|rejects|allows> HTTPS to {fqdn}")))
def firewall_rule(world: World, verb: str, fqdn: str) -> None:
    undo = world.lab.control.firewall(fqdn, ACTIONS[verb])
    if ACTIONS[verb] != "allow":
        world.on_teardown(f"open HTTPS to {fqdn} again", undo)


@given("the appliance reaches the cloud through the lab proxy")
def use_proxy(world: World) -> None:
    world.on_teardown("no proxy on the appliance", world.lab.control.route_through_proxy(world.device.name))
    world.seen.net.proxy_log_since, _ = world.lab.control.proxy_tunnels()


@step(lab_wide(sentence(r"the lab proxy denies {fqdn}")))
def proxy_denies(world: World, fqdn: str) -> None:
    world.on_teardown("the proxy allows everything again", world.lab.control.proxy_deny([fqdn]))


@step(lab_wide("the lab proxy allows every destination again"))
def proxy_allows(world: World) -> None:
    world.lab.control.proxy_deny([])


@then(sentence(r"the lab proxy carried a connection to {fqdn}"))
def proxy_carried(world: World, fqdn: str) -> None:
    _, entries = world.lab.control.proxy_tunnels(world.seen.net.proxy_log_since)
    tunnels = [e for e in entries if str(e.get("path", "")).startswith(fqdn) and e.get("status") == 200]
    world.check(tunnels, f"a CONNECT tunnel to {fqdn}:443 through the proxy",
                [(e.get("path"), e.get("status")) for e in entries], "lab proxy log")


@step(lab_wide(sentence(r"the lab's DNS does not resolve {fqdn}")))
def dns_unresolvable(world: World, fqdn: str) -> None:
    world.on_teardown(f"the lab's DNS answers {fqdn} again", world.lab.control.dns_unresolvable(fqdn))


@step(lab_wide(sentence(r"a middlebox intercepts TLS to {fqdn}")))
def tls_intercepted(world: World, fqdn: str) -> None:
    world.on_teardown(f"no interception of {fqdn}", world.lab.control.intercept_tls(fqdn))


@step(sentence(rf"I run the network check for the {REGION} region"))
def run_network_check(world: World, region: str) -> None:
    """The port-443 check of ``ctrlab netcheck``: DNS through the testbed's resolver, TCP, SYN, TLS."""
    # One probe's timeout, the testbed's (network.probe_timeout): a dropped FQDN costs about this much.
    world.seen.net.netcheck = check(world.lab.testbed, region=region, timeout=world.lab.testbed.network.probe_timeout)


@then(sentence(r"the network check reports {fqdn} as {verdict}"))
def network_check_verdict(world: World, fqdn: str, verdict: str) -> None:
    report = world.seen.net.netcheck
    observed = report.verdict(fqdn).value if fqdn in report.fqdns else "not checked"
    world.check(observed == verdict, f"{fqdn}: {verdict}", f"{fqdn}: {observed}\n"
                f"{report.table()}", "network check")


@then(sentence(r"the network check finds every FQDN of the region but {fqdn} reachable"))
def network_check_others_ok(world: World, fqdn: str) -> None:
    report = world.seen.net.netcheck
    bad = [r.fqdn for r in report.failures if r.fqdn != fqdn]
    world.check(not bad, f"every FQDN but {fqdn} reachable on HTTPS 443", report.table(), "network check")


@then("the network check finds every FQDN of the region reachable, est.sco.cisco.com included")
def network_check_all_ok(world: World) -> None:
    report = world.seen.net.netcheck
    world.check(report.ok and "est.sco.cisco.com" in report.fqdns,
                "every FQDN of the region and est.sco.cisco.com reachable on HTTPS 443", report.table(),
                "network check")
