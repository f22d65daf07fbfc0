"""The network between appliance and cloud (PRE-3, PRE-4): firewall rules and the proxy.

In a simulator lab the firewall and proxy are the netlab's, set through the control plane
(``/_sim/netlab/...``); on real gear they are the lab's own devices, which a person sets up (the
scenarios carry ``@manual``). Every change is undone after the scenario.
"""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, step, then

from .text import sentence, unq
from .world import World

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
