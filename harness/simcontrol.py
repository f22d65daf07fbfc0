"""The simulators' control plane (``/_sim/...``), as the ``sim_control`` fixture hands it to steps.

Troubleshooting scenarios put the lab into documented failure states through it (fault injection, the
clock, the firewall). On real gear there is no control plane (the fixture is ``None``): such scenarios
are tagged ``@manual:<why>`` and skipped there with that reason, and still run fully on the simulators.
"""

from __future__ import annotations

from typing import Any

import requests

from .errors import ApiError, LabUnreachable

TIMEOUT = (2.0, 15.0)  # (connect, read) seconds


class SimControl:
    """A small JSON client for one lab's control plane; every call has a timeout."""

    available = True

    def __init__(self, control_url: str, timeout: tuple[float, float] = TIMEOUT) -> None:
        self.base = control_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()
        self._http.trust_env = False  # the control plane is on loopback: no proxy, no netrc

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        url = f"{self.base}/_sim/{path.lstrip('/')}" if not path.startswith("/_sim") else f"{self.base}{path}"
        try:
            response = self._http.request(method, url, json=json, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise LabUnreachable("simulator control plane", self.base, exc) from exc
        if response.status_code >= 400:
            raise ApiError("simulator control plane", method, url, response.status_code, response.text)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        """``path`` is ``/_sim/...`` (a query string may be part of it) or relative to ``/_sim/``."""
        return self.request("GET", path, params=params or None)

    def post(self, path: str, json: Any = None, **params: Any) -> Any:
        return self.request("POST", path, json=json if json is not None else {}, params=params or None)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    # ---- the routes every lab has (docs/simulators.md) -----------------------------------------------
    def health(self) -> dict[str, Any]:
        return self.get("health")  # type: ignore[no-any-return]

    def reset(self) -> None:
        self.post("reset")

    def clock(self) -> dict[str, Any]:
        return self.get("clock")  # type: ignore[no-any-return]

    def set_clock(self, *, speed: float | None = None, advance: float | None = None) -> dict[str, Any]:
        body = {k: v for k, v in (("speed", speed), ("advance", advance)) if v is not None}
        return self.post("clock", body)  # type: ignore[no-any-return]

    def advance_to_next(self, owner: str | None = None) -> dict[str, Any]:
        """Run lab time to the next pending event of ``owner`` (an appliance name, ``sse:<region>``, ...;
        any owner if None). The lab answers once the work the event triggers is done (``settled``);
        ``fired`` is None when nothing is pending."""
        body: dict[str, Any] = {"advance_to_next": True}
        if owner is not None:
            body["owner"] = owner
        return self.post("clock", body)  # type: ignore[no-any-return]

    def faults(self) -> dict[str, Any]:
        """``{"faults": [the catalogue], "active": [{"name", "params"}]}`` (docs/simulators.md)."""
        return self.get("faults")  # type: ignore[no-any-return]

    def set_fault(self, name: str, **params: Any) -> dict[str, Any]:
        return self.post(f"faults/{name}", params)  # type: ignore[no-any-return]

    def clear_fault(self, name: str, **params: Any) -> dict[str, Any]:
        return self.request("DELETE", f"faults/{name}", json=params)  # type: ignore[no-any-return]

    def reset_appliance(self, name: str) -> dict[str, Any]:
        """One appliance and what it left in the cloud back to a known state (not the whole lab)."""
        return self.post(f"appliances/{name}/reset")  # type: ignore[no-any-return]

    def shutdown(self) -> None:
        """Ask the lab to stop; it answers first, then stops as on SIGTERM."""
        self.post("shutdown")

    def log(self, since: int = 0, service: str | None = None) -> Any:
        params: dict[str, Any] = {"since": since}
        if service:
            params["service"] = service
        return self.get("log", **params)

    def close(self) -> None:
        self._http.close()
