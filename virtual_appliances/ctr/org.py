"""One region's Threat Response organisation: API clients, signing key, rate limit, modules, casebooks."""

from __future__ import annotations

import secrets
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .modules import ModuleInstance
from .oauth import ApiClient, TokenAuthority

DEFAULT_RATE_LIMIT = 8000  # requests per rolling window per organisation (ctr-api.md section 2)
DEFAULT_RATE_WINDOW_S = 3600
DEFAULT_APPLIANCE_TIMEOUT_S = 10.0  # real seconds for each call to an appliance


class RateLimiter:
    """A rolling-window request counter on the simulated clock; refused requests do not count."""

    def __init__(self, limit: int = DEFAULT_RATE_LIMIT, window_s: int = DEFAULT_RATE_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: deque[datetime] = deque()

    def configure(self, limit: int, window_s: int) -> None:
        self.limit, self.window_s = limit, window_s

    def clear(self) -> None:
        self._hits.clear()

    def used(self, now: datetime) -> int:
        self._expire(now)
        return len(self._hits)

    def hit(self, now: datetime) -> int | None:
        """Count a request; returns None if allowed, else the Retry-After seconds."""
        self._expire(now)
        if len(self._hits) >= self.limit:
            oldest = self._hits[0] if self._hits else now
            wait = (oldest + timedelta(seconds=self.window_s) - now).total_seconds()
            return max(1, int(wait) + (0 if wait == int(wait) else 1))
        self._hits.append(now)
        return None

    def _expire(self, now: datetime) -> None:
        horizon = now - timedelta(seconds=self.window_s)
        while self._hits and self._hits[0] <= horizon:
            self._hits.popleft()


@dataclass
class Faults:
    api_status: int | None = None  # every API and private intel call answers with this status
    appliance_timeout_s: float = DEFAULT_APPLIANCE_TIMEOUT_S

    def clear(self) -> None:
        self.api_status = None
        self.appliance_timeout_s = DEFAULT_APPLIANCE_TIMEOUT_S


@dataclass
class Casebook:
    """A CTIA casebook; ``body`` holds every stored field except ``id`` and ``type``."""

    short_id: str
    uri: str
    body: dict[str, Any]

    def json(self) -> dict[str, Any]:
        return {"id": self.uri, "type": "casebook", **self.body}


@dataclass
class RegionCTR:
    region: str
    org_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    clients: dict[str, ApiClient] = field(default_factory=dict)
    modules: dict[str, ModuleInstance] = field(default_factory=dict)
    casebooks: dict[str, Casebook] = field(default_factory=dict)
    rate: RateLimiter = field(default_factory=RateLimiter)
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self.authority = TokenAuthority(self.region, self.org_id)

    def add_client(self, scopes: list[str], name: str, created: str, client_id: str | None = None,
                   secret: str | None = None) -> ApiClient:
        client = ApiClient(client_id=client_id or f"client-{uuid.uuid4()}", secret=secret or secrets.token_urlsafe(48),
                           name=name, scopes=list(dict.fromkeys(scopes)), user_id=f"user-{uuid.uuid4()}",
                           created=created)
        self.clients[client.client_id] = client
        return client

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """Debug view for the control plane: no client secrets, no tokens."""
        return {
            "region": self.region, "org_id": self.org_id, "issuer": self.authority.issuer,
            "clients": [c.public() for c in self.clients.values()],
            "modules": [m.json() | {"module_type": m.kind.title} for m in self.modules.values()],
            "casebooks": [c.json() for c in self.casebooks.values()],
            "rate_limit": {"limit": self.rate.limit, "window_seconds": self.rate.window_s,
                           "used": self.rate.used(now)},
            "faults": {"api_status": self.faults.api_status,
                       "appliance_timeout_seconds": self.faults.appliance_timeout_s},
        }
