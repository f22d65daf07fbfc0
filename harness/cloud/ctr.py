"""Cisco Threat Response / SecureX (IROH) and its private intelligence (CTIA), per region.

Behaviour follows reference/ctr-api.md:

* OAuth2 client credentials: ``POST {base}/iroh/oauth2/token``, HTTP Basic ``client_id:secret``, form
  ``grant_type=client_credentials``; the token is cached for ``expires_in`` (minus a margin);
* "expect a 401 even from a totally valid JWT": on a 401 the token is fetched again and the call
  repeated once;
* 429 and 5xx: retried by :mod:`harness.retries` (``Retry-After`` honoured within the policy's
  ``max_wait_s``; past it a :class:`~harness.errors.RateLimited` says how long the API asked to wait).
  5xx is retried for GET/PUT/DELETE/PATCH and for the POSTs that only read (token, inspect, enrich,
  health, the list of response actions); a POST that creates (module instance, casebook) or acts
  (a response action, casebook edits) is not repeated after a 5xx, since the API may have acted;
* regions are separate hosts (``visibility{,.eu,.apjc}.amp.cisco.com``, ``private.intel...``); the
  testbed may override both URLs (the lab's hosts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from ..errors import ApiError, AuthenticationFailed
from ..facts import REGION_TABLE
from ..http import DEFAULT_TIMEOUT, HttpSession, Timeout
from ..retries import RetryPolicy, default_policy
from ..retries import retry_after as _retry_after_headers
from ..transcript import Transcript, mask_body

REGIONS: dict[str, tuple[str, str]] = {r.name: (r.ctr_base, r.ctr_intel) for r in REGION_TABLE}
ObservableLike = Mapping[str, str] | tuple[str, str]
# Module instances this process created: the settings keeper deletes only these (never a colleague's module
# that happens to be added to the same organisation while a scenario runs).
CREATED_MODULES: set[str] = set()


def observables(items: Iterable[ObservableLike]) -> list[dict[str, str]]:
    """``[{"type": ..., "value": ...}]`` from dicts or ``(type, value)`` pairs."""
    out = []
    for item in items:
        if isinstance(item, Mapping):
            out.append({"type": str(item["type"]), "value": str(item["value"])})
        else:
            out.append({"type": str(item[0]), "value": str(item[1])})
    return out


def short_id(entity_id: str) -> str:
    """CTIA ids are URLs (``https://private.intel.../ctia/casebook/casebook-<uuid>``); paths want the tail."""
    return entity_id.rstrip("/").rpartition("/")[2]


class ThreatResponseClient:
    def __init__(self, client_id: str, client_secret: str, *, region: str = "nam", base_url: str | None = None,
                 intel_url: str | None = None, verify: bool | str = True, timeout: Timeout = DEFAULT_TIMEOUT,
                 transcript: Transcript | None = None, rate_limit_deadline: float | None = None,
                 token_margin: float = 30.0, proxies: Mapping[str, str] | None = None,
                 retry: RetryPolicy | None = None) -> None:
        if region not in REGIONS and not (base_url and intel_url):
            raise ValueError(f"unknown region {region!r}: one of {list(REGIONS)}, or give base_url and intel_url")
        default_base, default_intel = REGIONS.get(region, ("", ""))
        self.region = region
        self.base_url = (base_url or default_base).rstrip("/")
        self.intel_url = (intel_url or default_intel).rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self.what = f"Threat Response ({region})"
        retry = retry or default_policy()
        if rate_limit_deadline is not None:  # the older knob: seconds one call may spend waiting
            retry = RetryPolicy(retry.attempts, rate_limit_deadline, retry.base_s)
        self.retry = retry
        self.token_margin = token_margin
        self.http = HttpSession(self.what, verify=verify, timeout=timeout, transcript=transcript, proxies=proxies,
                                retry=retry)
        self.transcript = self.http.transcript
        self.transcript.add_credentials(client_id, client_secret)  # the token request sends Basic id:secret
        self._token: str | None = None
        self._expires_at = 0.0
        self.scopes: list[str] = []  # as granted with the last token
        self._lock = threading.RLock()

    @classmethod
    def from_config(cls, region: str, config: Mapping[str, Any], **options: Any) -> ThreatResponseClient:
        """From a testbed's ``cloud.ctr.<region>`` mapping (base_url, intel_url, client_id, client_secret)."""
        return cls(str(config["client_id"]), str(config["client_secret"]), region=region,
                   base_url=config.get("base_url"), intel_url=config.get("intel_url"), **options)

    # ---- OAuth2 -----------------------------------------------------------------------------------
    def token(self) -> str:
        """A valid access token (cached until ``expires_in`` minus the margin)."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._fetch_token()
            assert self._token is not None
            return self._token

    def invalidate_token(self) -> None:
        with self._lock:
            self._token = None

    def _fetch_token(self) -> None:
        url = f"{self.base_url}/iroh/oauth2/token"
        response = self._send("POST", url, auth=(self.client_id, self._secret),
                              data={"grant_type": "client_credentials"},
                              headers={"Accept": "application/json"}, retry_safe=True)
        if response.status_code in (400, 401, 403):
            raise AuthenticationFailed(self.what, url, self._error_text(response))
        if not response.ok:
            raise self._api_error("POST", url, response)
        body = response.json()
        token = body.get("access_token")
        if not token:
            raise ApiError(self.what, "POST", url, response.status_code, "no access_token in the token response")
        self.transcript.add_secret(token)
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 600.0  # documented default
        self._token = token
        self._expires_at = time.monotonic() + max(0.0, lifetime - min(self.token_margin, lifetime / 2))
        scope = body.get("scope") or ""
        self.scopes = scope.split() if isinstance(scope, str) else list(scope)

    # ---- calls ------------------------------------------------------------------------------------
    def request(self, method: str, url: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                safe: bool | None = None) -> Any:
        """An authorised call; JSON back (None for an empty body). ``safe``: a 5xx may be retried
        (default: the method is idempotent)."""
        refreshed = False
        while True:
            response = self._send(method, url, json=json, params=params, retry_safe=safe,
                                  headers={"Authorization": f"Bearer {self.token()}", "Accept": "application/json"})
            if response.status_code == 401 and not refreshed:
                refreshed = True  # a 401 even on a valid JWT: fetch a new token and try once more
                self.invalidate_token()
                continue
            if response.status_code == 401:
                raise AuthenticationFailed(self.what, url, self._error_text(response))
            if not response.ok:
                raise self._api_error(method, url, response)
            return response.json() if response.content else None

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange; 429 and 5xx are retried by the session's policy (``harness.retries``)."""
        return self.http.request(method, url, **kwargs)

    # ---- IROH: inspect, enrich, response ----------------------------------------------------------
    def inspect(self, text: str) -> list[dict[str, str]]:
        """Observables found in free text (``email_subject:"test test"``, an IP, a domain, ...)."""
        return self.request("POST", f"{self.base_url}/iroh/iroh-inspect/inspect", json={"content": text},
                            safe=True) or []

    def observe(self, items: Iterable[ObservableLike]) -> dict[str, Any]:
        return self._enrich("observe", items)

    def deliberate(self, items: Iterable[ObservableLike]) -> dict[str, Any]:
        return self._enrich("deliberate", items)

    def refer(self, items: Iterable[ObservableLike]) -> dict[str, Any]:
        return self._enrich("refer", items)

    def _enrich(self, verb: str, items: Iterable[ObservableLike]) -> dict[str, Any]:
        return self.request("POST", f"{self.base_url}/iroh/iroh-enrich/{verb}/observables",
                            json=observables(items), safe=True) or {}

    def health(self, module_instance_id: str | None = None) -> dict[str, Any]:
        path = "/iroh/iroh-enrich/health" + (f"/{quote(module_instance_id, safe='')}" if module_instance_id else "")
        return self.request("POST", self.base_url + path, safe=True) or {}

    def settings(self) -> dict[str, Any]:
        return self.request("GET", f"{self.base_url}/iroh/iroh-enrich/settings") or {}

    def respond(self, items: Iterable[ObservableLike]) -> dict[str, Any]:
        return self.request("POST", f"{self.base_url}/iroh/iroh-response/respond/observables",
                            json=observables(items), safe=True) or {}

    def trigger(self, module_instance_id: str, action_id: str, observable_type: str, observable_value: str,
                **params: str) -> dict[str, Any]:
        """Run a response action (REM-2: delete / forward / forward and delete a message)."""
        url = (f"{self.base_url}/iroh/iroh-response/respond/trigger/{quote(module_instance_id, safe='')}/"
               f"{quote(action_id, safe='')}")
        query = {"observable_type": observable_type, "observable_value": observable_value, **params}
        return self.request("POST", url, params=query) or {}

    def whoami(self) -> dict[str, Any]:
        return self.request("GET", f"{self.base_url}/iroh/profile/whoami") or {}

    # ---- IROH: integration modules (VER-3) ------------------------------------------------------
    def module_types(self, **query: Any) -> list[dict[str, Any]]:
        return self.request("GET", f"{self.base_url}/iroh/iroh-int/module-type", params=query or None) or []

    def module_instances(self, **query: Any) -> list[dict[str, Any]]:
        return self.request("GET", f"{self.base_url}/iroh/iroh-int/module-instance", params=query or None) or []

    def module_instance(self, instance_id: str) -> dict[str, Any]:
        return self.request("GET", f"{self.base_url}/iroh/iroh-int/module-instance/{quote(instance_id, safe='')}")

    def create_module_instance(self, name: str, module_type_id: str, settings: Mapping[str, Any] | None = None, *,
                               visibility: str = "org", enabled: bool = True, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "module_type_id": module_type_id, "visibility": visibility, "enabled": enabled,
                "settings": dict(settings or {}), **extra}
        created = self.request("POST", f"{self.base_url}/iroh/iroh-int/module-instance", json=body)
        if isinstance(created, Mapping) and created.get("id"):
            CREATED_MODULES.add(str(created["id"]))
        return created  # type: ignore[no-any-return]

    def update_module_instance(self, instance_id: str, **changes: Any) -> dict[str, Any]:
        return self.request("PATCH", f"{self.base_url}/iroh/iroh-int/module-instance/{quote(instance_id, safe='')}",
                            json=changes, safe=True)

    def delete_module_instance(self, instance_id: str) -> None:
        self.request("DELETE", f"{self.base_url}/iroh/iroh-int/module-instance/{quote(instance_id, safe='')}")

    # ---- IROH: SSE devices (VER-2) ----------------------------------------------------------------
    def devices(self) -> list[dict[str, Any]]:
        """The on-premise devices SSE shares with Threat Response (``/iroh/iroh-sse/device``)."""
        body = self.request("GET", f"{self.base_url}/iroh/iroh-sse/device")
        if isinstance(body, dict):  # tolerate an envelope: {"data": [...]} / {"items": [...]}
            body = body.get("data") or body.get("items") or body.get("devices") or []
        return list(body or [])

    # ---- CTIA: casebook (RIB-4) -------------------------------------------------------------------
    def create_casebook(self, title: str, description: str = "", items: Iterable[ObservableLike] = (), *,
                        texts: Iterable[Mapping[str, str]] = (), **extra: Any) -> dict[str, Any]:
        body = {"title": title, "description": description, "observables": observables(items),
                "texts": [dict(t) for t in texts], "type": "casebook", **extra}
        return self.request("POST", f"{self.intel_url}/ctia/casebook", json=body)

    def casebook(self, casebook_id: str) -> dict[str, Any]:
        return self.request("GET", self._casebook_url(casebook_id))

    def update_casebook(self, casebook_id: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", self._casebook_url(casebook_id), json=fields, safe=True)

    def delete_casebook(self, casebook_id: str) -> None:
        self.request("DELETE", self._casebook_url(casebook_id))

    def search_casebooks(self, query: str = "*", limit: int = 100, **params: Any) -> list[dict[str, Any]]:
        found = self.request("GET", f"{self.intel_url}/ctia/casebook/search",
                             params={"query": query, "limit": limit, **params})
        return list(found or [])

    def casebook_observables(self, casebook_id: str, operation: str, items: Iterable[ObservableLike]) -> dict[str, Any]:
        """``operation``: add | remove | replace."""
        return self.request("POST", self._casebook_url(casebook_id) + "/observables",
                            json={"operation": operation, "observables": observables(items)})

    def add_observables(self, casebook_id: str, items: Iterable[ObservableLike]) -> dict[str, Any]:
        return self.casebook_observables(casebook_id, "add", items)

    def remove_observables(self, casebook_id: str, items: Iterable[ObservableLike]) -> dict[str, Any]:
        return self.casebook_observables(casebook_id, "remove", items)

    def casebook_texts(self, casebook_id: str, operation: str, texts: Iterable[Mapping[str, str]]) -> dict[str, Any]:
        return self.request("POST", self._casebook_url(casebook_id) + "/texts",
                            json={"operation": operation, "texts": [dict(t) for t in texts]})

    def _casebook_url(self, casebook_id: str) -> str:
        return f"{self.intel_url}/ctia/casebook/{quote(short_id(casebook_id), safe='')}"

    # ---- plumbing ----------------------------------------------------------------------------------
    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ThreatResponseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error_text(self, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return f"HTTP {response.status_code}"
        if isinstance(body, dict):
            text = " ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
            return self.transcript.redact(text or f"HTTP {response.status_code}")
        return f"HTTP {response.status_code}"

    def _api_error(self, method: str, url: str, response: requests.Response) -> ApiError:
        body = self.transcript.redact(mask_body(response.content, response.headers.get("Content-Type", "")))
        return ApiError(self.what, method, url, response.status_code, body)


def retry_after(response: requests.Response, default: float) -> float:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date), else ``default``."""
    return _retry_after_headers(response.headers, default)
