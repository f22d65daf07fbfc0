"""IROH error bodies ("NormalizedError", specs iroh-inspect 401/403/500 and iroh-enrich NormalizedError-401).

Raise them from handlers: each is an aiohttp HTTPException carrying the JSON body.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

NO_JWT = "No JWT found in HTTP Authorization header"  # spec example, verbatim
MISSING_SCOPE = "You do not have the required credentials to access this route."  # spec example, verbatim


def trace_id() -> str:
    return f"ctx-{uuid.uuid4()}"


def http_error(status: int, body: Any, headers: dict[str, str] | None = None) -> web.HTTPException:
    exc = web.HTTPException(text=json.dumps(body), content_type="application/json", headers=headers)
    exc.set_status(status)
    return exc


def unauthorized(error: str, description: str) -> web.HTTPException:
    return http_error(401, {"error": error, "error_description": description, "trace_id": trace_id()},
                      headers={"WWW-Authenticate": f'Bearer realm="IROH", error="{error}"'})


def forbidden(required: list[str], granted: list[str], user_id: str, org_id: str) -> web.HTTPException:
    return http_error(403, {
        "error": "missing_scope", "error_description": MISSING_SCOPE,
        "missing-scopes": list(required), "required-scopes": list(required), "scopes": list(granted),
        "user-id": user_id, "org-id": org_id, "trace_id": trace_id(),
    })


def bad_request(description: str, error: str = "invalid_request") -> web.HTTPException:
    """A 400 whose description names the offending field (inferred shape: NormalizedError)."""
    return http_error(400, {"error": error, "error_description": description, "trace_id": trace_id()})


def not_found(what: str) -> web.HTTPException:
    return http_error(404, {"error": "not_found", "error_description": what, "trace_id": trace_id()})


def too_many_requests(retry_after: int) -> web.HTTPException:
    # ctr-api.md: the documented 429 carries Retry-After and a 30-byte body; this one is 30 bytes.
    return http_error(429, {"error": "too many requests"}, headers={"Retry-After": str(retry_after)})


def injected(status: int) -> web.HTTPException:
    if status >= 500:
        return http_error(status, {"error": "unknown-exception",
                                   "error_description": "This exception has been logged for further inspection.",
                                   "trace_id": trace_id()})
    return http_error(status, {"error": "injected_fault", "error_description": f"HTTP {status} (injected fault)",
                               "trace_id": trace_id()})
