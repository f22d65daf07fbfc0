"""The catalogue of named lab faults: one place defines them, the control plane serves them.

``GET /_sim/faults`` lists the catalogue and the faults in force; ``POST /_sim/faults/<name>`` with the
fault's parameters applies one, ``DELETE /_sim/faults/<name>`` (same parameters, or none for every
instance of it) clears it. ``ctrlab sim fault`` is the command line for them, and docs/simulators.md
carries the table :func:`markdown_table` prints (a test keeps the two equal).

Each fault is what a lab engineer would do to a real lab to reproduce a documented failure; the
requirement it exercises is the ID of the conformance catalogue (REQUIREMENTS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .common.regions import REGIONS

if TYPE_CHECKING:
    from .lab import Lab


class FaultError(ValueError):
    """Bad fault name or parameters; ``str(exc)`` names the field."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Param:
    name: str
    kind: type  # str, int, float or bool
    description: str
    default: Any = None  # None: required
    choices: tuple[str, ...] = ()

    def usage(self) -> str:
        text = f"{self.name} ({self.kind.__name__}"
        if self.choices:
            text += f": {'/'.join(self.choices)}"
        if self.default is not None:
            text += f", default {self.default}"
        return text + ")"


Apply = Callable[["Lab", dict[str, Any]], None]


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    requirement: str
    params: tuple[Param, ...]
    apply: Apply = field(repr=False)
    clear: Apply = field(repr=False)

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "requirement": self.requirement,
                "params": [{"name": p.name, "type": p.kind.__name__, "description": p.description,
                            "default": p.default, "required": p.default is None, "choices": list(p.choices)}
                           for p in self.params]}

    def parse(self, body: dict[str, Any], partial: bool = False) -> dict[str, Any]:
        """The parameters with defaults, each checked; ``partial``: only what was given (clearing)."""
        known = {p.name: p for p in self.params}
        for key in body:
            if key not in known:
                raise FaultError(f"{self.name}: unknown parameter {key!r}; parameters: "
                                 f"{', '.join(known) or 'none'}")
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name not in body:
                if partial:
                    continue
                if p.default is None:
                    raise FaultError(f"{self.name}: parameter {p.name!r} is required ({p.description})")
                out[p.name] = p.default
                continue
            out[p.name] = _convert(self.name, p, body[p.name])
        return out


def _convert(fault: str, p: Param, value: Any) -> Any:
    """JSON values, or the strings ``ctrlab sim fault set NAME k=v`` sends."""
    try:
        if p.kind is bool:
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                value = value.lower() in ("true", "1", "yes")
            elif not isinstance(value, bool):
                raise ValueError
        elif p.kind in (int, float):
            if isinstance(value, bool):
                raise ValueError
            value = p.kind(value)
        elif not isinstance(value, str) or not value.strip():
            raise ValueError
    except (TypeError, ValueError):
        raise FaultError(f"{fault}: parameter {p.name!r} must be {p.kind.__name__}, got {value!r}") from None
    if p.choices and value not in p.choices:
        raise FaultError(f"{fault}: parameter {p.name!r} must be one of {', '.join(p.choices)}, got {value!r}")
    return value


# ---- the parameters the faults share ------------------------------------------------------------------
FQDN = Param("fqdn", str, "a cloud FQDN of the lab, e.g. api-sse.cisco.com")
PORT = Param("port", int, "TCP port (443 is the lab's HTTPS port)", 443)
REGION = Param("region", str, "cloud region", "nam", tuple(REGIONS))
APPLIANCE = Param("appliance", str, "appliance name in the testbed, e.g. esa1")


def _status(default: int) -> Param:
    return Param("status", int, "HTTP status answered (400-599)", default)


def _http_status(fault: str, value: int) -> int:
    if not 400 <= value <= 599:
        raise FaultError(f"{fault}: parameter 'status' must be an HTTP error status (400-599), got {value}")
    return value


def _appliance(lab: Lab, p: dict[str, Any]) -> Any:
    try:
        return lab.fleet[p["appliance"]]
    except KeyError:
        raise FaultError(f"no appliance named {p['appliance']!r} (appliances: "
                         f"{', '.join(a.spec.name for a in lab.fleet)})", 404) from None


def _firewall(action: str) -> Apply:
    def apply(lab: Lab, p: dict[str, Any]) -> None:
        lab.netlab.set_firewall(p["fqdn"], lab.netlab.https_port if p["port"] == 443 else p["port"], _action(action))
    return apply


def _action(name: str) -> Any:
    from .netlab.firewall import Action

    return Action(name)


def _appliance_fault(**values: Any) -> tuple[Apply, Apply]:
    """Set fields of the appliance's fault record from the parameters (a value of None: the parameter)."""
    def apply(lab: Lab, p: dict[str, Any]) -> None:
        faults = _appliance(lab, p).faults
        for key, value in values.items():
            setattr(faults, key, p[value] if isinstance(value, str) and value in p else value)

    def clear(lab: Lab, p: dict[str, Any]) -> None:
        faults = _appliance(lab, p).faults
        fresh = type(faults)()
        for key in values:
            setattr(faults, key, getattr(fresh, key))
    return apply, clear


def _sse_status(attribute: str) -> tuple[Apply, Apply]:
    def apply(lab: Lab, p: dict[str, Any]) -> None:
        setattr(lab.sse.region_state(p["region"]).faults, attribute, _http_status(attribute, p["status"]))

    def clear(lab: Lab, p: dict[str, Any]) -> None:
        setattr(lab.sse.region_state(p.get("region", "nam")).faults, attribute, None)
    return apply, clear


def _set_est(lab: Lab, p: dict[str, Any]) -> None:
    lab.sse.est_fault_status = _http_status("est-status", p["status"])


def _clear_est(lab: Lab, p: dict[str, Any]) -> None:
    lab.sse.est_fault_status = None


def _tr_enabled(enabled: bool) -> Apply:
    def apply(lab: Lab, p: dict[str, Any]) -> None:
        lab.sse.region_state(p.get("region", "nam")).tenant.threat_response_enabled = enabled
    return apply


def _proxy_deny(deny: bool) -> Apply:
    def apply(lab: Lab, p: dict[str, Any]) -> None:
        proxy = lab.netlab.state()["proxy"]
        if proxy is None:
            raise FaultError("proxy-deny: this lab runs without a proxy", 409)
        denied = set(proxy["deny"])
        lab.netlab.set_proxy_deny(sorted(denied | {p["fqdn"]} if deny else denied - {p["fqdn"]}))
    return apply


def _expire_tokens(lab: Lab, p: dict[str, Any]) -> None:
    lab.sse.region_state(p["region"]).expire_tokens(lab.clock.now())


def _nothing(lab: Lab, p: dict[str, Any]) -> None:
    """Expired tokens stay expired: generate new ones."""


def _ctr_status(lab: Lab, p: dict[str, Any]) -> None:
    lab.ctr.region_state(p["region"]).faults.api_status = _http_status("ctr-api-status", p["status"])


def _ctr_status_clear(lab: Lab, p: dict[str, Any]) -> None:
    lab.ctr.region_state(p.get("region", "nam")).faults.api_status = None


def _ctr_slow(lab: Lab, p: dict[str, Any]) -> None:
    if p["seconds"] <= 0:
        raise FaultError("ctr-appliance-timeout: parameter 'seconds' must be > 0")
    lab.ctr.region_state(p["region"]).faults.appliance_timeout_s = float(p["seconds"])


def _ctr_slow_clear(lab: Lab, p: dict[str, Any]) -> None:
    from .ctr.org import DEFAULT_APPLIANCE_TIMEOUT_S

    lab.ctr.region_state(p.get("region", "nam")).faults.appliance_timeout_s = DEFAULT_APPLIANCE_TIMEOUT_S


def _ctr_revoke(lab: Lab, p: dict[str, Any]) -> None:
    lab.ctr.region_state(p["region"]).authority.rotate()


_refuse = _appliance_fault(refuse_commit=True)
_slow = _appliance_fault(slow_reply_ms="ms")
_drop_ssh = _appliance_fault(drop_ssh_after="after")
_http = _appliance_fault(http_status="status")
_sse_device = _sse_status("device_api_status")
_sse_admin = _sse_status("admin_api_status")

CATALOGUE: tuple[Fault, ...] = (
    Fault("firewall-drop", "the lab firewall silently drops HTTPS to an FQDN (connections time out)", "PRE-3",
          (FQDN, PORT), _firewall("drop"), _firewall("allow")),
    Fault("firewall-reject", "the lab firewall rejects HTTPS to an FQDN (connection refused)", "PRE-3",
          (FQDN, PORT), _firewall("reject"), _firewall("allow")),
    Fault("dns-no-answer", "the lab's DNS answers NXDOMAIN for an FQDN", "PRE-3", (FQDN,),
          lambda lab, p: lab.netlab.set_dns(p["fqdn"], None), lambda lab, p: lab.netlab.restore_dns(p["fqdn"])),
    Fault("tls-intercept", "a middlebox intercepts TLS to an FQDN (a certificate the appliance does not trust)",
          "PRE-3", (FQDN,), lambda lab, p: lab.netlab.set_intercept(p["fqdn"], True),
          lambda lab, p: lab.netlab.set_intercept(p["fqdn"], False)),
    Fault("proxy-deny", "the lab proxy denies CONNECT to an FQDN (403)", "PRE-4", (FQDN,),
          _proxy_deny(True), _proxy_deny(False)),
    Fault("sse-tokens-expire", "every outstanding registration token of a region expires now (one-shot)",
          "REG-8", (REGION,), _expire_tokens, _nothing),
    Fault("sse-threat-response-disabled", "Threat Response is disabled on the region's SSE Cloud Services tab",
          "TS-1", (REGION,), _tr_enabled(False), _tr_enabled(True)),
    Fault("sse-device-api-status", "the region's SSE connector API answers every request with an HTTP error",
          "TS-4", (REGION, _status(503)), *_sse_device),
    Fault("sse-admin-api-status", "the region's SSE admin API (the portal) answers with an HTTP error", "REG-1",
          (REGION, _status(503)), *_sse_admin),
    Fault("est-status", "the EST enrollment at est.sco.cisco.com answers with an HTTP error", "PRE-3",
          (_status(503),), _set_est, _clear_est),
    Fault("appliance-commit-refused", "the appliance refuses every commit", "ENA-5", (APPLIANCE,), *_refuse),
    Fault("appliance-slow-replies", "every CLI and HTTP reply of the appliance is delayed", "ENA-2",
          (APPLIANCE, Param("ms", int, "delay of each reply in milliseconds", 300)), *_slow),
    Fault("appliance-drops-ssh", "the appliance drops the next SSH session after N commands (0: at login)",
          "ENA-6", (APPLIANCE, Param("after", int, "commands before the drop", 0)), *_drop_ssh),
    Fault("appliance-http-status", "the appliance's GUI and REST API answer with an HTTP error", "VER-4",
          (APPLIANCE, _status(503)), *_http),
    Fault("ctr-api-status", "the region's Threat Response API answers every request with an HTTP error",
          "VER-5", (REGION, _status(503)), _ctr_status, _ctr_status_clear),
    Fault("ctr-appliance-timeout", "Threat Response gives up on the appliance's REST API after a few seconds",
          "VER-5", (REGION, Param("seconds", float, "real seconds Threat Response waits for the appliance", 1.0)),
          _ctr_slow, _ctr_slow_clear),
    Fault("ctr-tokens-revoked", "every Threat Response access token issued so far stops verifying (one-shot)",
          "RIB-1", (REGION,), _ctr_revoke, _nothing),
)
BY_NAME: dict[str, Fault] = {f.name: f for f in CATALOGUE}


class ActiveFaults:
    """The faults set through the catalogue and not cleared since, as (name, parameters)."""

    def __init__(self) -> None:
        self._active: list[tuple[str, dict[str, Any]]] = []

    def get(self, name: str) -> Fault:
        try:
            return BY_NAME[name]
        except KeyError:
            raise FaultError(f"no fault named {name!r}; faults: {', '.join(BY_NAME)}", 404) from None

    def set(self, lab: Lab, name: str, body: dict[str, Any]) -> dict[str, Any]:
        fault = self.get(name)
        params = fault.parse(body)
        try:
            fault.apply(lab, params)
        except KeyError as exc:  # an unknown FQDN or region, named by the lab
            raise FaultError(f"{name}: {exc.args[0] if exc.args else exc}", 404) from None
        if fault.clear is not _nothing and (name, params) not in self._active:
            self._active.append((name, params))
        return params

    def clear(self, lab: Lab, name: str, body: dict[str, Any]) -> int:
        """Clear the instances of ``name`` matching the given parameters (all of them without any)."""
        fault = self.get(name)
        given = fault.parse(body, partial=True)
        matching = [(n, p) for n, p in self._active
                    if n == name and all(p.get(k) == v for k, v in given.items())]
        targets = [p for _, p in matching] or [fault.parse(given)]
        for params in targets:
            try:
                fault.clear(lab, params)
            except KeyError as exc:
                raise FaultError(f"{name}: {exc.args[0] if exc.args else exc}", 404) from None
        self._active = [item for item in self._active if item not in matching]
        return len(matching)

    def forget(self, appliance: str) -> None:
        """An appliance was reset: its own faults are gone."""
        self._active = [(n, p) for n, p in self._active if p.get("appliance") != appliance]

    def reset(self) -> None:
        self._active.clear()

    def public(self) -> list[dict[str, Any]]:
        return [{"name": n, "params": p} for n, p in self._active]


def markdown_table() -> str:
    """The table of docs/simulators.md (tests compare the two)."""
    lines = ["| fault | what it does | requirement | parameters |", "|---|---|---|---|"]
    for f in CATALOGUE:
        params = ", ".join(f"`{p.usage()}`" for p in f.params) or "none"
        lines.append(f"| `{f.name}` | {f.description} | {f.requirement} | {params} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
