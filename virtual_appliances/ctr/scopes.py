"""IROH scopes: ``<path>[:<access>]``, where a scope covers every sub-path of its path.

``enrich`` covers ``enrich/observables/observe:read`` and any write; ``enrich:read`` covers only reads;
``integration:read`` covers ``integration/module-instance:read`` but not ``...:write``. Routes declare
the fine-grained scopes of the swagger specs (ctr-api.md section 2); a list means "any of these".
"""

from __future__ import annotations

from collections.abc import Iterable

# Root scopes of the IROH documentation and specs, plus the ribbon's (RIB-1).
ROOT_SCOPES = frozenset({
    "admin", "ao", "asset", "casebook", "cognitive", "enrich", "event", "feedback", "global-intel", "inspect",
    "integration", "investigation", "invite", "notification", "oauth", "orbital", "private-intel", "profile",
    "registry", "response", "sse", "telemetry", "users", "vault", "webhook",
})
ACCESS_LEVELS = ("read", "write")

# RIB-1: every scope the SecureX ribbon's API client needs.
RIBBON_SCOPES = (
    "casebook", "enrich:read", "global-intel:read", "inspect:read", "integration:read", "profile", "private-intel",
    "response", "registry/user/ribbon", "telemetry:write", "users:read", "orbital",
)


def parse(scope: str) -> tuple[str, str | None]:
    path, _, access = scope.partition(":")
    return path.strip("/"), access or None


def covers(granted: str, required: str) -> bool:
    g_path, g_access = parse(granted)
    r_path, r_access = parse(required)
    path_ok = r_path == g_path or r_path.startswith(g_path + "/")
    return path_ok and (g_access is None or g_access == r_access)


def allowed(granted: Iterable[str], required_any: Iterable[str]) -> bool:
    """True when one granted scope covers one of the required scopes (an empty requirement: any token)."""
    required = list(required_any)
    if not required:
        return True
    granted = list(granted)
    return any(covers(g, r) for g in granted for r in required)


def invalid_scope(scope: object) -> str | None:
    """Why a scope cannot be given to a client, or None if it is well-formed and known."""
    if not isinstance(scope, str) or not scope.strip():
        return "a scope must be a non-empty string"
    path, access = parse(scope.strip())
    root = path.split("/", 1)[0]
    if root not in ROOT_SCOPES:
        return f"unknown scope {scope!r}: the root {root!r} is not one of {', '.join(sorted(ROOT_SCOPES))}"
    if access is not None and access not in ACCESS_LEVELS:
        return f"unknown access {access!r} in scope {scope!r}: expected read or write"
    return None
