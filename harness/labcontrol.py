"""Lab set-ups a scenario needs that are not part of the documented procedures, behind one typed interface.

A troubleshooting scenario needs the lab in a documented failure state: an FQDN blocked at the firewall, a
resolver with no answer, a TLS-intercepting middlebox, an expired token, an appliance of another release.
Steps ask :class:`LabControl` for it and never know who does it:

* :class:`SimLabControl` does it through the bundled simulators' control plane (``/_sim/...``);
* :class:`GearLabControl` does it on real gear where the testbed says how (``deviations.lab_actions``: the
  commands that apply and revert a firewall rule, a DNS override, ...), and otherwise skips the scenario
  naming the manual set-up a person must make.

Every change returns its undo, which the caller runs after the scenario, pass or fail.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

import pytest

Undo = Callable[[], object]


class LabActionFailed(RuntimeError):
    """A lab set-up could not be made (the control plane or a ``lab_actions`` command refused): a lab fault."""
ACTION_TIMEOUT_S = 60.0  # one lab action command on real gear (a firewall rule over SSH, ...)


def _nothing() -> None:
    return None


class ControlPlane(Protocol):
    """What :class:`SimLabControl` needs of ``harness.simcontrol.SimControl``."""

    def get(self, path: str, **params: Any) -> Any: ...

    def post(self, path: str, json: Any = None, **params: Any) -> Any: ...

    def delete(self, path: str) -> Any: ...


@dataclass(frozen=True)
class ClusterPeer:
    """A cluster member an appliance can join with ``clusterconfig join <host> <user> <password> <group>``."""

    host: str
    username: str
    password: str
    group: str = "Main_Group"


@dataclass(frozen=True)
class ClockStep:
    """What moving lab time did: ``fired`` names the event that happened (None: nothing was pending)."""

    fired: str | None
    now: str | None = None


class LabControl(Protocol):
    """The set-ups and lab time the steps may ask for. Every method works on both kinds of lab."""

    simulated_time: bool  # lab time can jump (a simulator); otherwise it passes with the wall clock

    # ---- the appliance as a lab engineer would prepare it -------------------------------------------------
    def reset_appliance(self, device: str) -> bool: ...
    def factory_fresh(self, device: str) -> None: ...
    def set_release(self, device: str, version: str, original: str) -> Undo: ...
    def join_cluster(self, device: str, cluster: str) -> Undo: ...
    def cluster_peer(self, device: str, cluster: str) -> tuple[ClusterPeer, Undo]: ...
    def set_licensing(self, device: str, *, smart_licensing: bool | None = None,
                      cssm_registered: bool | None = None) -> Undo: ...
    def set_gateway_variant(self, device: str, variant: str) -> Undo: ...

    # ---- the network between appliance and cloud ----------------------------------------------------------
    def firewall(self, fqdn: str, action: str) -> Undo: ...
    def dns_unresolvable(self, fqdn: str) -> Undo: ...
    def intercept_tls(self, fqdn: str) -> Undo: ...
    def route_through_proxy(self, device: str) -> Undo: ...
    def proxy_deny(self, fqdns: Sequence[str]) -> Undo: ...
    def proxy_tunnels(self, since: int = 0) -> tuple[int, list[dict[str, Any]]]: ...

    # ---- the cloud ---------------------------------------------------------------------------------------
    def expire_tokens(self, region: str) -> Undo: ...
    def fresh_sse_tenant(self, region: str) -> None: ...
    def api_client(self, region: str, scopes: Sequence[str], name: str) -> tuple[str, str, Undo]: ...

    # ---- lab time ----------------------------------------------------------------------------------------
    def run_to_next_event(self, owner: str) -> ClockStep: ...


class SimLabControl:
    """:class:`LabControl` over the simulators' control plane (docs/simulators.md)."""

    simulated_time = True

    def __init__(self, plane: ControlPlane, proxy_url: str | None = None) -> None:
        self.plane = plane
        self.proxy_url = proxy_url  # the testbed's simulator.proxy_url, when the netlab state names none

    def _appliance(self, device: str, part: str, body: Mapping[str, Any]) -> None:
        self.plane.post(f"/_sim/appliances/{device}/{part}", dict(body))

    def reset_appliance(self, device: str) -> bool:
        """Back to cloud services disabled, nothing pending, not registered anywhere, its records gone from every
        region's SSE and its Threat Response modules deleted; the lab engineer's faults on the appliance stay in
        force (the protocol path, which this speeds up, would not touch them either)."""
        self.plane.post(f"/_sim/appliances/{device}/reset", {"keep_faults": True})
        return True

    def factory_fresh(self, device: str) -> None:
        self.reset_appliance(device)  # the simulator's reset is the factory state: no server ever chosen

    def set_release(self, device: str, version: str, original: str) -> Undo:
        self._appliance(device, "spec", {"version": version})
        return lambda: self._appliance(device, "spec", {"version": original})

    def join_cluster(self, device: str, cluster: str) -> Undo:
        self._appliance(device, "lab", {"cluster_name": cluster})
        return lambda: self._appliance(device, "lab", {"cluster_name": None})

    def cluster_peer(self, device: str, cluster: str) -> tuple[ClusterPeer, Undo]:
        # The simulator's clusterconfig takes the cluster's name from the host it joins through, any credentials;
        # the appliance leaves the cluster again after the scenario.
        return (ClusterPeer(cluster, "admin", "ctrlab-peer"),
                lambda: self._appliance(device, "lab", {"cluster_name": None}))

    def set_licensing(self, device: str, *, smart_licensing: bool | None = None,
                      cssm_registered: bool | None = None) -> Undo:
        body = {k: v for k, v in (("smart_licensing", smart_licensing), ("cssm_registered", cssm_registered))
                if v is not None}
        self._appliance(device, "lab", body)
        return lambda: self._appliance(device, "lab", {k: True for k in body})

    def set_gateway_variant(self, device: str, variant: str) -> Undo:
        before = str(((self.plane.get(f"/_sim/appliances/{device}") or {}).get("spec") or {})
                     .get("gateway_variant") or "securex")
        self._appliance(device, "spec", {"gateway_variant": variant})
        return lambda: self._appliance(device, "spec", {"gateway_variant": before})

    def firewall(self, fqdn: str, action: str) -> Undo:
        self.plane.post("/_sim/netlab/firewall", {"fqdn": fqdn, "port": 443, "action": action})
        return lambda: self.plane.post("/_sim/netlab/firewall", {"fqdn": fqdn, "port": 443, "action": "allow"})

    def dns_unresolvable(self, fqdn: str) -> Undo:
        self.plane.post("/_sim/netlab/dns", {"fqdn": fqdn, "answer": None})
        return lambda: self.plane.post("/_sim/netlab/dns", {"fqdn": fqdn, "restore": True})

    def intercept_tls(self, fqdn: str) -> Undo:
        self.plane.post("/_sim/netlab/intercept", {"fqdn": fqdn, "enabled": True})
        return lambda: self.plane.post("/_sim/netlab/intercept", {"fqdn": fqdn, "enabled": False})

    def route_through_proxy(self, device: str) -> Undo:
        state: dict[str, Any] = self.plane.get("/_sim/netlab") or {}
        url = (state.get("proxy") or {}).get("url") or self.proxy_url
        if not url:
            raise LabActionFailed("the simulator lab has no HTTPS proxy (neither /_sim/netlab nor the testbed's "
                                  "simulator.proxy_url names one)")
        self._appliance(device, "lab", {"proxy": str(url)})
        return lambda: self._appliance(device, "lab", {"proxy": None})

    def proxy_deny(self, fqdns: Sequence[str]) -> Undo:
        self.plane.post("/_sim/netlab/proxy", {"deny": list(fqdns)})
        return lambda: self.plane.post("/_sim/netlab/proxy", {"deny": []})

    def proxy_tunnels(self, since: int = 0) -> tuple[int, list[dict[str, Any]]]:
        log = self.plane.get("/_sim/log", since=since, service="netlab.proxy") or []
        entries = [e for e in (log.get("entries", []) if isinstance(log, dict) else log) if isinstance(e, dict)]
        last = max((int(e.get("seq", e.get("id", 0)) or 0) for e in entries), default=since)
        return last, entries

    def expire_tokens(self, region: str) -> Undo:
        # What an hour of waiting does to the region's outstanding tokens; nothing to undo (they stay expired).
        self.plane.post(f"/_sim/sse/{region}/tokens/expire", {})
        return _nothing

    def fresh_sse_tenant(self, region: str) -> None:
        # The simulated SSE starts every region afresh (empty tenant, Threat Response off): lab-wide.
        self.plane.post("/_sim/sse/reset", {})

    def api_client(self, region: str, scopes: Sequence[str], name: str) -> tuple[str, str, Undo]:
        made = self.plane.post(f"/_sim/ctr/{region}/clients", {"scopes": list(scopes), "name": name})
        client_id, secret = str(made["client_id"]), str(made["client_secret"])
        return client_id, secret, lambda: self.plane.delete(f"/_sim/ctr/{region}/clients/{client_id}")

    def run_to_next_event(self, owner: str) -> ClockStep:
        answer = self.plane.post("/_sim/clock", {"advance_to_next": True, "owner": owner}) or {}
        fired = answer.get("fired")
        if isinstance(fired, dict):
            fired = str(fired.get("what") or fired)
        return ClockStep(fired=str(fired) if fired else None, now=answer.get("now"))


def manual(what: str) -> NoReturn:
    """Skip the scenario: on this lab a person must make the set-up (the step names it)."""
    pytest.skip(f"needs manual set-up on this testbed: {what}")


class GearLabControl:
    """:class:`LabControl` on real gear: the testbed's ``deviations.lab_actions`` where given, else manual.

    ``lab_actions`` maps an action to the commands that apply and revert it, with ``{fqdn}``/``{device}``
    filled in, e.g. ``firewall_drop: {apply: "ssh fw1 sudo nft add element inet lab blocked {{ {fqdn} }}",
    revert: "..."}``. The commands run without a shell, each within ``ACTION_TIMEOUT_S``.
    """

    simulated_time = False

    def __init__(self, deviations: Mapping[str, Any] | None = None) -> None:
        self.actions: Mapping[str, Any] = (deviations or {}).get("lab_actions") or {}
        # API clients a person made once in the portal, each with its region and scopes (RIB-1..RIB-6).
        self.clients: list[Mapping[str, Any]] = list((deviations or {}).get("api_clients") or [])
        self.peer: Any = (deviations or {}).get("cluster_peer")

    def _run(self, action: str, what: str, **values: str) -> Undo:
        spec = self.actions.get(action)
        if not isinstance(spec, Mapping) or "apply" not in spec:
            manual(what)
        self._command(action, "apply", str(spec["apply"]), values)
        revert = spec.get("revert")
        return (lambda: self._command(action, "revert", str(revert), values)) if revert else _nothing

    @staticmethod
    def _command(action: str, phase: str, template: str, values: Mapping[str, str]) -> None:
        argv = [part.format(**values) for part in shlex.split(template)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=ACTION_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LabActionFailed(f"deviations.lab_actions.{action}.{phase}: {argv[0]}: {exc}") from exc
        if done.returncode != 0:
            raise LabActionFailed(f"deviations.lab_actions.{action}.{phase} exited {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()[:300]}")

    def reset_appliance(self, device: str) -> bool:
        return False  # the caller walks the documented procedures over the appliance's own interfaces

    def factory_fresh(self, device: str) -> None:
        # No documented procedure unselects a server: a lab puts a VM back (e.g. a snapshot revert) or a person
        # provides a new appliance.
        self._run("factory_fresh", "an appliance as it left the factory (no Threat Response server ever chosen)",
                  device=device)

    def set_release(self, device: str, version: str, original: str) -> Undo:
        if version == original:
            return _nothing  # the appliance already runs it: nothing to set up
        manual(f"an appliance running AsyncOS {version}")

    def join_cluster(self, device: str, cluster: str) -> Undo:
        return self._run("join_cluster", f"the appliance joined to a cluster named {cluster}", device=device,
                         cluster=cluster)

    def cluster_peer(self, device: str, cluster: str) -> tuple[ClusterPeer, Undo]:
        """``deviations.cluster_peer`` (host, username, password, group) and the lab action ``leave_cluster`` that
        takes the appliance out again: joining a real cluster without a way back is not done."""
        peer = self.peer
        leave = self.actions.get("leave_cluster")
        if not isinstance(peer, Mapping) or not peer.get("host") or not isinstance(leave, Mapping) \
                or "apply" not in leave:
            manual(f"a cluster peer appliance for {cluster} (deviations.cluster_peer: host, username, password, "
                   "group) and a way to leave the cluster again (deviations.lab_actions.leave_cluster)")
        found = ClusterPeer(str(peer["host"]), str(peer.get("username", "admin")), str(peer.get("password", "")),
                            str(peer.get("group", "Main_Group")))
        return found, lambda: self._command("leave_cluster", "apply", str(leave["apply"]),
                                            {"device": device, "cluster": cluster})

    def set_licensing(self, device: str, *, smart_licensing: bool | None = None,
                      cssm_registered: bool | None = None) -> Undo:
        if smart_licensing is False:
            manual("an appliance without Smart Software Licensing")
        manual("an appliance not registered with Cisco Smart Software Manager")

    def set_gateway_variant(self, device: str, variant: str) -> Undo:
        manual(f"a content security gateway of the {variant} variant")

    def firewall(self, fqdn: str, action: str) -> Undo:
        return self._run(f"firewall_{action}", f"a firewall rule that {action}s HTTPS (443) from the appliance to "
                         f"{fqdn}", fqdn=fqdn)

    def dns_unresolvable(self, fqdn: str) -> Undo:
        return self._run("dns_unresolvable", f"a resolver that has no answer for {fqdn}", fqdn=fqdn)

    def intercept_tls(self, fqdn: str) -> Undo:
        return self._run("intercept_tls", f"a TLS-intercepting middlebox in front of {fqdn}", fqdn=fqdn)

    def route_through_proxy(self, device: str) -> Undo:
        return self._run("route_through_proxy", "the appliance configured to reach the cloud through the lab's "
                         "HTTPS proxy", device=device)

    def proxy_deny(self, fqdns: Sequence[str]) -> Undo:
        return self._run("proxy_deny", f"the lab proxy denying {', '.join(fqdns)}", fqdn=",".join(fqdns))

    def proxy_tunnels(self, since: int = 0) -> tuple[int, list[dict[str, Any]]]:
        manual("reading the lab proxy's log of CONNECT tunnels")

    def expire_tokens(self, region: str) -> Undo:
        return self._run("expire_tokens", "a registration token past its expiry (generate one with 1 hour and wait)",
                         region=region)

    def fresh_sse_tenant(self, region: str) -> None:
        manual(f"a new SSE tenant (account) in the {region} region, its Cloud Services untouched")

    def api_client(self, region: str, scopes: Sequence[str], name: str) -> tuple[str, str, Undo]:
        """A client of ``deviations.api_clients`` with exactly these scopes in ``region``; else manual."""
        for client in self.clients:
            if str(client.get("region", region)) == region and sorted(client.get("scopes") or []) == sorted(scopes):
                return str(client["client_id"]), str(client["client_secret"]), _nothing
        manual(f"an API client created in the {region} Threat Response portal (API Clients page) with the scopes "
               + ", ".join(scopes) + ", listed in the testbed's deviations.api_clients")

    def run_to_next_event(self, owner: str) -> ClockStep:
        return ClockStep(fired=None)  # real time: the caller polls


def lab_control(plane: ControlPlane | None, deviations: Mapping[str, Any] | None,
                proxy_url: str | None = None) -> LabControl:
    """The control of a lab: the simulators' control plane when the lab has one, else real gear's."""
    return SimLabControl(plane, proxy_url) if plane is not None else GearLabControl(deviations)
